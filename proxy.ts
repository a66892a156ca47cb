import { NextResponse, type NextFetchEvent, type NextRequest } from "next/server";
import { auth } from "@/server/auth";

// The `authorized` callback in server/auth guards every route (sign-in redirect, 401 for APIs); this adds a
// request id that pages and actions carry into audit entries. Pages check the session again themselves.
const guarded = auth((req) => {
  const id = crypto.randomUUID();
  const headers = new Headers(req.headers);
  headers.set("x-request-id", id);
  // What a break-glass access record names: the path asked for.
  headers.set("x-pathname", req.nextUrl.pathname);
  const res = NextResponse.next({ request: { headers } });
  res.headers.set("x-request-id", id);
  return res;
}) as unknown as Promise<(req: NextRequest, ev: NextFetchEvent) => Promise<Response>>;
// ^ with a lazily built config (env read per request) next-auth hands back the wrapped handler asynchronously.

export async function proxy(req: NextRequest, ev: NextFetchEvent) {
  return (await guarded)(req, ev);
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
