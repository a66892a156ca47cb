import Link from "next/link";

export default function AuthNotFound() {
  return (
    <div>
      <h1 className="text-lg font-semibold">Not found</h1>
      <Link href="/sign-in" className="mt-4 inline-block text-sky-700 underline">Go to sign-in</Link>
    </div>
  );
}
