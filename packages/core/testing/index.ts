/**
 * Test doubles of core's ports, for tests and benchmarks of every package (`@driftwatch/core/testing`). They keep
 * the semantics of the real adapters (conditional writes, copies on read) but persist nothing. Never imported by
 * `src` of any package.
 */
export { InMemoryDeviceRegistry } from "./in-memory-registry.ts";
export { InMemoryPhiVaultStore } from "./in-memory-vault-store.ts";
export { fixedClock, MemoryIncidentStore, RecordingTaskTokens } from "./memory-incident-store.ts";
