ALTER TABLE "router_certs" ADD COLUMN "connected_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "router_certs" ADD COLUMN "disconnected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "router_certs" ADD COLUMN "last_address" text;--> statement-breakpoint
ALTER TABLE "router_certs" ADD COLUMN "last_heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "router_certs" ADD COLUMN "last_pull_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "router_certs" ADD COLUMN "last_pull_latency_ms" integer;--> statement-breakpoint
ALTER TABLE "router_certs" ADD COLUMN "stale_since" timestamp with time zone;