import { createContext, useContext } from "react";
import type { Me } from "./api.ts";

export const MeContext = createContext<Me | null>(null);

/** The signed-in user and role (from GET /api/me, the API's own reading of the token). */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe outside the signed-in console");
  return me;
}

export const VIEWER_REASON =
  "Viewers can look but not change: acknowledging, resolving and editing thresholds need the operators group.";
