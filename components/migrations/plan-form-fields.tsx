"use client";

import type { ReactNode } from "react";

export type Errors = Record<string, string[]> | undefined;

export const inputClass = "mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm aria-[invalid=true]:border-red-600 dark:border-slate-700";

/** A labelled input with its field message next to it; `name` is the draft path the server reports errors under. */
export function Field(props: { label: string; name: string; value: string; onChange: (v: string) => void; errors: Errors; width?: string; placeholder?: string; type?: string; hint?: string }) {
  const error = props.errors?.[props.name]?.[0];
  const id = `f-${props.name.replaceAll(".", "-")}`;
  return (
    <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
      {props.label}
      <input
        id={id}
        data-field={props.name}
        type={props.type ?? "text"}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={!!error}
        aria-describedby={error ? `${id}-error` : undefined}
        className={`${inputClass} ${props.width ?? "w-40"}`}
      />
      {props.hint && !error && <span className="text-[11px] text-slate-500">{props.hint}</span>}
      {error && <FieldError id={`${id}-error`} name={props.name} message={error} />}
    </label>
  );
}

export function FieldError({ id, name, message }: { id?: string; name: string; message: string }) {
  return (
    <span id={id} role="alert" data-error-for={name} className="text-xs text-red-700">
      {message}
    </span>
  );
}

/** Messages for a whole part of the plan (e.g. `sources.0`: the engine's connection check at save). */
export function PartErrors({ name, errors }: { name: string; errors: Errors }) {
  const messages = errors?.[name];
  return messages?.length ? <FieldError name={name} message={messages.join(" ")} /> : null;
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label={title}>
      <h2 className="font-medium">{title}</h2>
      {children}
    </section>
  );
}
