// The vendor's licence-signing public key (Ed25519, raw 32 bytes base64). Built in so that a self-hosted customer
// cannot trust a key of their own: ENGINE_LICENCE_PUBLIC_KEY replaces it only when NODE_ENV is development or test
// (config.ts). The private key never enters this repository; `npm run licence:issue -- --key <pem> --public-key`
// prints the public key of the one the vendor holds.
export const VENDOR_LICENCE_PUBLIC_KEY = "fR/2r+tCsXdLKqUd5IifoBV9POetiS230zpaihhMEWI=";
