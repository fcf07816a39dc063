import type { LocalContext, LocalService } from "../runtime/context.ts";

/** Local scoring service. (Skeleton: filled in by the scoring work.) */
export async function startScoring(_context: LocalContext): Promise<LocalService> {
  return { name: "scoring", stop: async () => {} };
}
