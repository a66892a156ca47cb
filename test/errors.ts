/** The database's own message for a failed query (drizzle wraps the driver's error in `cause`). */
export async function dbError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    const err = e as Error & { cause?: Error & { constraint_name?: string } };
    return [err.message, err.cause?.message, err.cause?.constraint_name].filter(Boolean).join(" | ");
  }
  throw new Error("expected the query to fail, but it succeeded");
}
