import { text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./tenancy";

/**
 * Who signed an electronic signature record and when (21 CFR Part 11 §11.50), and the HMAC that links it to what
 * it signs (§11.70): the columns every signature table shares.
 */
export const signerColumns = () => ({
  signerUserId: uuid("signer_user_id")
    .notNull()
    .references(() => users.id),
  signerName: text("signer_name").notNull(),
  signedAt: timestamp("signed_at", { withTimezone: true }).notNull(),
  /** when the signer last authenticated at the IdP (the ID token's auth_time) */
  authTime: timestamp("auth_time", { withTimezone: true }).notNull(),
  binding: text("binding").notNull(),
});
