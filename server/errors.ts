import "server-only";

/** A request the caller may fix: the message is shown to a person, `fields` next to form inputs. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly fields: Record<string, string[]> = {},
  ) {
    super(message);
    this.name = "InputError";
  }
}

/** The caller is signed in but may not do this. */
export class ForbiddenError extends Error {
  constructor(message = "You do not have permission to do this.") {
    super(message);
    this.name = "ForbiddenError";
  }
}

/** The session is older than the step-up window: re-authenticate at the IdP and try again. */
export class StepUpRequiredError extends Error {
  constructor(readonly maxAgeSeconds: number) {
    super(`This action requires you to have signed in within the last ${Math.round(maxAgeSeconds / 60)} minutes.`);
    this.name = "StepUpRequiredError";
  }
}

/** Nothing by that id in the caller's tenant (pages answer 404, handlers 404, actions a message). */
export class NotFoundError extends Error {
  constructor(message = "Not found.") {
    super(message);
    this.name = "NotFoundError";
  }
}

/** PostgreSQL's error code and constraint, from a driver error or the query error that wraps it. */
export const pgCode = (e: unknown): { code?: string; constraint_name?: string } => {
  const err = e as { code?: string; cause?: { code?: string; constraint_name?: string } };
  return err.cause ?? err;
};
