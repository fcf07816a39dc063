import type { LocalContext, LocalService } from "../runtime/context.ts";

/** Local storage service. (Skeleton: filled in by the storage work.) */
export async function startStorage(_context: LocalContext): Promise<LocalService> {
  return { name: "storage", stop: async () => {} };
}
