import net from "node:net";

/** A TCP port free on loopback right now (tests and e2e never assume a fixed port is theirs). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Fails with a message naming the setting when a port the stack needs is already taken. */
export async function assertPortsFree(ports: Record<string, number>) {
  for (const [setting, port] of Object.entries(ports)) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "0.0.0.0", () => srv.close(() => resolve(true)));
    });
    if (!free) throw new Error(`port ${port} (${setting}) is already in use: stop what is using it, or set ${setting} to another port`);
  }
}
