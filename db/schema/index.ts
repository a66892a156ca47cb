export * from "./tenancy";
export * from "./tenant-config";
export * from "./audit";
export * from "./break-glass";
export * from "./quarantine";
export * from "./migration-reports";
export * from "./migration-approvals";
export * from "./scim";
