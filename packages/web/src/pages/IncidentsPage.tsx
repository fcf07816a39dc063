import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, type ActionResult, type Incident } from "../api.ts";
import { ErrorNote, fmtTime, Loading, StateBadge } from "../components/Common.tsx";
import { LIVE_MS } from "../live.ts";
import { incidentsQuery } from "../queries.ts";
import { useMe, VIEWER_REASON } from "../session-context.ts";

const STATES = ["open", "acknowledged", "unacknowledged", "resolved"] as const;

function Actions({ incident }: { incident: Incident }) {
  const me = useMe();
  const client = useQueryClient();
  // The answer is the incident after the action: show it at once, then refresh the lists and counters.
  const done = (result: ActionResult) => {
    const { outcome: _outcome, ...after } = result;
    client.setQueryData(["incident", incident.id], after);
    void client.invalidateQueries({ queryKey: ["incidents"] });
    void client.invalidateQueries({ queryKey: ["devices"] });
  };
  const ack = useMutation({ mutationFn: () => api.ack(incident.id), onSuccess: done });
  const resolve = useMutation({ mutationFn: () => api.resolve(incident.id), onSuccess: done });
  const outcome = (resolve.data ?? ack.data)?.outcome;
  const viewer = me.role !== "operator";
  const canAck = incident.state === "open" || incident.state === "unacknowledged";
  const canResolve = incident.state !== "resolved";
  return (
    <div className="actions">
      <button
        type="button"
        onClick={() => ack.mutate()}
        disabled={viewer || !canAck || ack.isPending}
        aria-describedby={viewer ? "viewer-reason" : undefined}
      >
        {ack.isPending ? "Acknowledging…" : "Acknowledge"}
      </button>
      <button
        type="button"
        onClick={() => resolve.mutate()}
        disabled={viewer || !canResolve || resolve.isPending}
        aria-describedby={viewer ? "viewer-reason" : undefined}
      >
        {resolve.isPending ? "Resolving…" : "Resolve"}
      </button>
      {viewer && (
        <p id="viewer-reason" className="reason" data-testid="viewer-reason">
          {VIEWER_REASON}
        </p>
      )}
      {outcome?.startsWith("already-") && (
        <p className="reason" role="status">
          Nothing to do: someone else got there first ({outcome.replace("-", " ")}).
        </p>
      )}
      <ErrorNote error={ack.error ?? resolve.error} />
    </div>
  );
}

function Detail({ id }: { id: string }) {
  const incident = useQuery({
    queryKey: ["incident", id],
    queryFn: () => api.incident(id),
    refetchInterval: LIVE_MS,
  });
  if (incident.error) return <ErrorNote error={incident.error} />;
  if (!incident.data) return <Loading what="incident" />;
  const i = incident.data;
  return (
    <section className="card" aria-labelledby="detail-h" data-testid="incident-detail">
      <h2 id="detail-h">
        {i.rule} on <Link to={`/devices/${encodeURIComponent(i.deviceId)}`}>{i.deviceId}</Link>
      </h2>
      <p>
        <StateBadge state={i.state} /> tier {i.tier} · {i.occurrences} occurrence
        {i.occurrences === 1 ? "" : "s"} · opened {fmtTime(i.openedAt)}
        {i.acknowledgedBy && ` · acknowledged by ${i.acknowledgedBy} ${fmtTime(i.acknowledgedAt)}`}
        {i.resolvedBy && ` · resolved by ${i.resolvedBy} ${fmtTime(i.resolvedAt)}`}
      </p>
      {i.summary && <p>{i.summary}</p>}
      <Actions incident={i} />
      <h3>Timeline</h3>
      <ol className="timeline">
        {i.timeline.map((t, n) => (
          <li key={n}>
            <time dateTime={t.at}>{fmtTime(t.at)}</time> <strong>{t.type}</strong>
            {t.tier !== undefined && ` · tier ${t.tier}`}
            {t.channel && ` · ${t.channel}`}
            {t.actor && ` · by ${t.actor}`}
            {t.detail && <span className="muted"> · {t.detail}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Incidents: filter by state, device and rule (server-side), the list, and one incident's timeline and actions. */
export function IncidentsPage() {
  const { incidentId } = useParams();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const filters = {
    state: params.get("state") ?? "",
    deviceId: params.get("deviceId") ?? "",
    rule: params.get("rule") ?? "",
  };
  const list = useQuery({ ...incidentsQuery(filters), placeholderData: keepPreviousData });
  const setFilter = (key: keyof typeof filters, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const rows = list.data ?? [];
  return (
    <>
      <h1>Incidents</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select value={filters.state} onChange={(e) => setFilter("state", e.target.value)}>
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Device
          <input value={filters.deviceId} onChange={(e) => setFilter("deviceId", e.target.value.trim())} />
        </label>
        <label>
          Rule
          <input
            value={filters.rule}
            onChange={(e) => setFilter("rule", e.target.value.trim())}
            placeholder="e.g. bound:pressure:high"
          />
        </label>
      </form>
      <div className="layout-2">
        <div>
          <ErrorNote error={list.error} />
          {list.isPending ? (
            <Loading what="incidents" />
          ) : (
            <div className="table-wrap">
              <table>
                <caption>
                  {rows.length} incident{rows.length === 1 ? "" : "s"}, newest first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Opened</th>
                    <th scope="col">Device</th>
                    <th scope="col">Rule</th>
                    <th scope="col">State</th>
                    <th scope="col">Tier</th>
                    <th scope="col">Occurrences</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((i) => (
                    <tr
                      key={i.id}
                      className={i.id === incidentId ? "selected" : undefined}
                      data-testid={`incident-row-${i.id}`}
                    >
                      <td>
                        <Link
                          to={{
                            pathname: `/incidents/${encodeURIComponent(i.id)}`,
                            search: params.toString(),
                          }}
                          aria-current={i.id === incidentId ? "true" : undefined}
                        >
                          {fmtTime(i.openedAt)}
                        </Link>
                      </td>
                      <td>{i.deviceId}</td>
                      <td>{i.rule}</td>
                      <td>
                        <StateBadge state={i.state} />
                      </td>
                      <td>{i.tier}</td>
                      <td>{i.occurrences}</td>
                    </tr>
                  ))}
                  {rows.length === 0 && (
                    <tr>
                      <td colSpan={6}>No incidents match.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
          )}
        </div>
        <div>
          {incidentId ? (
            <>
              <Detail id={decodeURIComponent(incidentId)} />
              <button
                type="button"
                className="link"
                onClick={() => navigate({ pathname: "/incidents", search: params.toString() })}
              >
                Close
              </button>
            </>
          ) : (
            <p className="muted">Choose an incident to see its timeline and act on it.</p>
          )}
        </div>
      </div>
    </>
  );
}
