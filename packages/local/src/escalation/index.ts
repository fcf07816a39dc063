import type { LocalContext, LocalService } from "../runtime/context.ts";

/** Local escalation service. (Skeleton: filled in by the escalation work.) */
export async function startEscalation(_context: LocalContext): Promise<LocalService> {
  return { name: "escalation", stop: async () => {} };
}
