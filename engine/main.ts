// The engine process: admin API, DICOM endpoint for vendors, router gateway (mTLS WebSocket), TTL purger.
// `--mode=hosted|self-hosted` overrides ENGINE_MODE.
import { loadEngineConfig } from "./config";
import { faultHooksFromFile } from "./migration/test-faults";
import { startEngine } from "./server";

async function main() {
  const modeFlag = process.argv.find((a) => a.startsWith("--mode="));
  const env = modeFlag ? { ...process.env, ENGINE_MODE: modeFlag.slice("--mode=".length) } : process.env;
  // End-to-end tests only: injected faults (see engine/migration/test-faults.ts).
  const faults = process.env.ENGINE_TEST_FAULT_FILE;
  const engine = await startEngine(loadEngineConfig(env), undefined, undefined, faults ? { migration: faultHooksFromFile(faults) } : {});
  const stop = () => void engine.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e) => {
  console.error(`[engine] failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
