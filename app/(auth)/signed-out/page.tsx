import Link from "next/link";

export default function SignedOutPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">You are signed out</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">Your console session and your identity provider session have ended.</p>
      <Link href="/sign-in" className="mt-6 block w-full rounded-md bg-sky-700 px-4 py-2 text-center font-medium text-white hover:bg-sky-800">
        Sign in again
      </Link>
    </>
  );
}
