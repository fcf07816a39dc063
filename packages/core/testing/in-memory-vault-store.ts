import type { PhiVaultStore, SealedPhiRecord } from "../src/ports/phi-vault-store.ts";

/** Sealed vault records in memory, with the same conditional-write semantics as the DynamoDB store. */
export class InMemoryPhiVaultStore implements PhiVaultStore {
  readonly records = new Map<string, SealedPhiRecord>();
  writes = 0;

  async putIfChanged(record: SealedPhiRecord): Promise<"written" | "unchanged"> {
    const key = `${record.token}\u0000${record.field}`;
    if (this.records.get(key)?.mac === record.mac) return "unchanged";
    this.records.set(key, structuredClone(record));
    this.writes++;
    return "written";
  }

  async get(token: string, field: string): Promise<SealedPhiRecord | undefined> {
    const record = this.records.get(`${token}\u0000${field}`);
    return record === undefined ? undefined : structuredClone(record);
  }
}
