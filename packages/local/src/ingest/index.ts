import type { LocalContext, LocalService } from "../runtime/context.ts";

/** Local ingest service. (Skeleton: filled in by the ingest work.) */
export async function startIngest(_context: LocalContext): Promise<LocalService> {
  return { name: "ingest", stop: async () => {} };
}
