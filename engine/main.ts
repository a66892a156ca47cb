// The engine process: admin API now; DICOM endpoint, router gateway, purger and migration workers join it.
import { loadEngineConfig } from "./config";
import { startEngine } from "./server";

async function main() {
  const engine = await startEngine(loadEngineConfig());
  const stop = () => void engine.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e) => {
  console.error(`[engine] failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
