import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The engine's Prometheus metrics; one registry per engine instance (tests run several in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["tenant"] as const;
  return {
    registry,
    received: new Counter({ name: "relay_results_received_total", help: "Instances stored into hold queues", labelNames, registers: [registry] }),
    receivedBytes: new Counter({ name: "relay_received_bytes_total", help: "Part 10 bytes stored", labelNames, registers: [registry] }),
    pulled: new Counter({ name: "relay_results_pulled_total", help: "Results pulled by routers", labelNames, registers: [registry] }),
    acked: new Counter({ name: "relay_results_acked_total", help: "Results acked by routers", labelNames, registers: [registry] }),
    expired: new Counter({ name: "relay_results_expired_total", help: "Results expired by the TTL purger", registers: [registry] }),
    notifyLatency: new Histogram({
      name: "relay_notify_latency_seconds",
      help: "From storing a result (C-STORE response) to notifying the tenant's router",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
