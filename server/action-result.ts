import "server-only";
import { z } from "zod";
import { EngineError, EngineUnavailableError } from "./engine/client";
import { ForbiddenError, InputError, NotFoundError, StepUpRequiredError } from "./errors";

/** What a form's server action returns: a message for the person, field messages next to the inputs. */
export type ActionResult<T = unknown> = { ok: true; message: string; data?: T } | { ok: false; message: string; fields?: Record<string, string[]>; reauth?: boolean };

/**
 * Runs a server action's work and turns what a person can act on (bad input, a refusal, the engine being down)
 * into an ActionResult; anything else is a bug and propagates to the error boundary.
 */
export async function actionResult<T>(fn: () => Promise<{ message: string; data?: T }>): Promise<ActionResult<T>> {
  try {
    const r = await fn();
    return { ok: true, ...r };
  } catch (e) {
    if (e instanceof z.ZodError) return { ok: false, message: e.issues[0]?.message ?? "Check the form.", fields: z.flattenError(e).fieldErrors as Record<string, string[]> };
    if (e instanceof InputError) return { ok: false, message: e.message, fields: e.fields };
    if (e instanceof ForbiddenError || e instanceof NotFoundError) return { ok: false, message: e.message };
    if (e instanceof StepUpRequiredError) return { ok: false, message: `${e.message} Re-authenticate, then sign.`, reauth: true };
    if (e instanceof EngineUnavailableError) return { ok: false, message: "The engine is unreachable right now; nothing was changed. Try again shortly." };
    // 502 is the engine's own answer that an archive it reached for is away: a message, like its refusals.
    if (e instanceof EngineError && (e.status < 500 || e.status === 502)) return { ok: false, message: e.message, fields: e.fields };
    throw e;
  }
}

/** A server action's FormData as plain fields; anything else (a direct call with other arguments) is bad input. */
export function formFields(form: unknown): Record<string, string> {
  if (!(form instanceof FormData)) throw new InputError("This action takes a form.");
  return Object.fromEntries([...form.entries()].map(([k, v]) => [k, typeof v === "string" ? v : ""]));
}
