import type { Metadata } from "next";
import { signInAction } from "@/server/auth/actions";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  Configuration: "Sign-in is not configured correctly. Ask your administrator to check the identity provider settings.",
  AccessDenied: "Your identity provider refused the sign-in.",
  Verification: "The sign-in link is no longer valid. Try again.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { callbackUrl, error } = await searchParams;
  return (
    <>
      <h1 className="text-xl font-semibold">Imaging operations console</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">Sign in with your organization&apos;s account.</p>
      {error && (
        <p role="alert" className="mt-4 rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {ERRORS[error] ?? "Sign-in failed. Try again."}
        </p>
      )}
      <form action={signInAction} className="mt-6">
        <input type="hidden" name="callbackUrl" value={callbackUrl ?? "/"} />
        <button className="w-full rounded-md bg-sky-700 px-4 py-2 font-medium text-white hover:bg-sky-800">Sign in</button>
      </form>
    </>
  );
}
