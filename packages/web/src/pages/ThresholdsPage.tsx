import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { api, type BacktestResult, type Device, type RuleBody } from "../api.ts";
import { BacktestChart } from "../components/BacktestChart.tsx";
import { ErrorNote, fmtTime, Loading } from "../components/Common.tsx";
import {
  emptyForm,
  formFromRule,
  normalizeScope,
  resolveChain,
  scopeChain,
  scopeOf,
  validateForm,
  type RuleForm,
  type ScopeKind,
} from "../rule-form.ts";
import { devicesQuery } from "../queries.ts";
import { useMe, VIEWER_REASON } from "../session-context.ts";

const DAY_MS = 24 * 3_600_000;

function parseScope(scope: string): {
  kind: ScopeKind;
  manufacturer: string;
  model: string;
  deviceId: string;
} {
  const [kind, a = "", b = ""] = scope.split("/");
  if (kind === "manufacturers") return { kind, manufacturer: a, model: "", deviceId: "" };
  if (kind === "models") return { kind, manufacturer: a, model: b, deviceId: "" };
  if (kind === "devices")
    return { kind, manufacturer: "", model: "", deviceId: scope.slice("devices/".length) };
  return { kind: "global", manufacturer: "", model: "", deviceId: "" };
}

const inScope = (scope: string, d: Device) => {
  const p = parseScope(scope);
  if (p.kind === "devices") return d.deviceId === p.deviceId;
  if (p.kind === "models") return d.manufacturer === p.manufacturer && d.model === p.model;
  if (p.kind === "manufacturers") return d.manufacturer === p.manufacturer;
  return true;
};

const complete = (scope: string) => !scope.split("/").some((part) => part === "");

function ScopePicker({
  scope,
  onChange,
  devices,
}: {
  scope: string;
  onChange: (s: string) => void;
  devices: Device[];
}) {
  const p = parseScope(scope);
  const update = (patch: Partial<typeof p>) => {
    const next = { ...p, ...patch };
    onChange(scopeOf(next.kind, next));
  };
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return (
    <fieldset className="filters">
      <legend>Scope</legend>
      <label>
        Level
        <select value={p.kind} onChange={(e) => update({ kind: e.target.value as ScopeKind })}>
          <option value="global">global</option>
          <option value="manufacturers">manufacturer</option>
          <option value="models">model</option>
          <option value="devices">device</option>
        </select>
      </label>
      {(p.kind === "manufacturers" || p.kind === "models") && (
        <label>
          Manufacturer
          <input
            list="dl-manufacturers"
            value={p.manufacturer}
            onChange={(e) => update({ manufacturer: e.target.value })}
            required
          />
        </label>
      )}
      {p.kind === "models" && (
        <label>
          Model
          <input
            list="dl-models"
            value={p.model}
            onChange={(e) => update({ model: e.target.value })}
            required
          />
        </label>
      )}
      {p.kind === "devices" && (
        <label>
          Device
          <input
            list="dl-devices"
            value={p.deviceId}
            onChange={(e) => update({ deviceId: e.target.value })}
            required
          />
        </label>
      )}
      <datalist id="dl-manufacturers">
        {uniq(devices.map((d) => d.manufacturer)).map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <datalist id="dl-models">
        {uniq(devices.filter((d) => d.manufacturer === p.manufacturer).map((d) => d.model)).map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <datalist id="dl-devices">
        {devices.map((d) => (
          <option key={d.deviceId} value={d.deviceId} />
        ))}
      </datalist>
    </fieldset>
  );
}

function FieldError({ id, error }: { id: string; error?: string }) {
  return error ? (
    <span id={id} className="field-error" role="alert">
      {error}
    </span>
  ) : null;
}

function Editor({
  form,
  setForm,
  errors,
}: {
  form: RuleForm;
  setForm: (f: RuleForm) => void;
  errors: Record<string, string>;
}) {
  const setRow = (i: number, key: "metric" | "min" | "max", value: string) =>
    setForm({ ...form, bounds: form.bounds.map((r, n) => (n === i ? { ...r, [key]: value } : r)) });
  const field = (key: "scoreThreshold" | "silenceWindows" | "stuckReadings", label: string, hint: string) => (
    <label className="stack">
      {label}
      <input
        name={key}
        inputMode={key === "stuckReadings" ? "text" : "decimal"}
        value={form[key]}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })}
        aria-invalid={errors[key] ? true : undefined}
        aria-describedby={`${key}-hint${errors[key] ? ` ${key}-err` : ""}`}
      />
      <span id={`${key}-hint`} className="hint">
        {hint}
      </span>
      <FieldError id={`${key}-err`} error={errors[key]} />
    </label>
  );
  return (
    <div className="editor">
      <fieldset>
        <legend>Bounds per metric</legend>
        {form.bounds.map((row, i) => (
          <div className="bound-row" key={i}>
            {(["metric", "min", "max"] as const).map((key) => (
              <label key={key}>
                {key === "metric" ? "Metric" : key === "min" ? "Min" : "Max"}
                <input
                  name={`bounds.${i}.${key}`}
                  value={row[key]}
                  inputMode={key === "metric" ? "text" : "decimal"}
                  onChange={(e) => setRow(i, key, e.target.value)}
                  aria-invalid={errors[`bounds.${i}.${key}`] ? true : undefined}
                  aria-describedby={errors[`bounds.${i}.${key}`] ? `b-${i}-${key}-err` : undefined}
                />
                <FieldError id={`b-${i}-${key}-err`} error={errors[`bounds.${i}.${key}`]} />
              </label>
            ))}
            <button
              type="button"
              className="link"
              onClick={() => setForm({ ...form, bounds: form.bounds.filter((_, n) => n !== i) })}
              aria-label={`Remove bound ${row.metric || i + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setForm({ ...form, bounds: [...form.bounds, { metric: "", min: "", max: "" }] })}
        >
          Add bound
        </button>
      </fieldset>
      {field(
        "scoreThreshold",
        "Score threshold",
        "Raw RCF score above which a reading is anomalous; empty = inherit",
      )}
      {field(
        "silenceWindows",
        "Silence windows",
        "Windows an outage must span (its last reading's included) before a silence alert; 0 turns the rule off",
      )}
      {field(
        "stuckReadings",
        "Stuck readings",
        'Repeats before a stuck alert: a number, or {"metric": n, "*": n}',
      )}
    </div>
  );
}

function BacktestSummary({ result }: { result: BacktestResult }) {
  const rules = [
    ...new Set([...Object.keys(result.current.byRule), ...Object.keys(result.candidate.byRule)]),
  ].sort();
  return (
    <div className="preview" role="status" data-testid="backtest-result">
      <p>
        <strong>
          This change would have raised {result.candidate.alerts} alert
          {result.candidate.alerts === 1 ? "" : "s"} in the last 24 h instead of {result.current.alerts}
        </strong>{" "}
        ({result.readings} readings replayed
        {result.candidate.incidents !== undefined && result.current.incidents !== undefined
          ? `; ${result.candidate.incidents} incident${result.candidate.incidents === 1 ? "" : "s"} instead of ${result.current.incidents}`
          : ""}
        ).
      </p>
      {rules.length > 0 && (
        <ul className="plain">
          {rules.map((r) => (
            <li key={r}>
              {r}: {result.current.byRule[r] ?? 0} → {result.candidate.byRule[r] ?? 0}
            </li>
          ))}
        </ul>
      )}
      {result.candidate.noiseWarning ? (
        <p className="warn">With this change: {result.candidate.noiseWarning}</p>
      ) : null}
      <BacktestChart result={result} />
    </div>
  );
}

/**
 * Thresholds: pick a scope, see what it inherits and what it overrides, edit with inline validation, preview the
 * change on the last 24 h of a device's readings (POST /api/backtest), save, and read the change history.
 */
export function ThresholdsPage() {
  const me = useMe();
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const scope = params.get("scope") ?? "global";
  const setScope = (s: string) => setParams(new URLSearchParams({ scope: s }), { replace: true });
  const rules = useQuery({ queryKey: ["thresholds"], queryFn: api.thresholds });
  const devices = useQuery(devicesQuery());
  const history = useQuery({
    queryKey: ["history", scope],
    queryFn: () => api.history(complete(scope) ? scope : undefined),
  });
  const stored = useMemo(
    () => (rules.data ?? []).find((r) => normalizeScope(r.scope) === scope),
    [rules.data, scope],
  );
  const [form, setForm] = useState<RuleForm>(emptyForm());
  const [preview, setPreview] = useState<{ rule: string; result: BacktestResult } | null>(null);
  const [previewDevice, setPreviewDevice] = useState("");
  useEffect(() => {
    setForm(formFromRule(stored));
    setPreview(null);
  }, [stored, scope]);
  const { errors, rule } = validateForm(form);
  const ruleKey = JSON.stringify(rule ?? null);
  const candidates = (devices.data ?? []).filter((d) => inScope(scope, d));
  const deviceForPreview =
    candidates.find((d) => d.deviceId === previewDevice)?.deviceId ?? candidates[0]?.deviceId;
  const device = (devices.data ?? []).find((d) => scope === `devices/${d.deviceId}`);
  const chain = scopeChain(scope, device);
  const origins = resolveChain(chain, rules.data ?? []);

  const backtest = useMutation({
    mutationFn: (body: { deviceId: string; rule: RuleBody }) => {
      const to = new Date();
      return api.backtest({
        ...body,
        from: new Date(to.getTime() - DAY_MS).toISOString(),
        to: to.toISOString(),
      });
    },
    onSuccess: (result, body) => setPreview({ rule: JSON.stringify(body.rule), result }),
  });
  const save = useMutation({
    mutationFn: (body: RuleBody) => api.putThreshold(scope, body),
    onSuccess: async () => {
      setPreview(null);
      await Promise.all(
        ["thresholds", "history", "effective"].map((k) => client.invalidateQueries({ queryKey: [k] })),
      );
    },
  });
  const remove = useMutation({
    mutationFn: () => api.deleteThreshold(scope),
    onSuccess: async () => {
      await Promise.all(
        ["thresholds", "history", "effective"].map((k) => client.invalidateQueries({ queryKey: [k] })),
      );
    },
  });
  const viewer = me.role !== "operator";
  const previewed = preview !== null && preview.rule === ruleKey;
  const dirty = ruleKey !== JSON.stringify(validateForm(formFromRule(stored)).rule ?? null);
  const previewPossible = deviceForPreview !== undefined;
  const saveBlocked = viewer
    ? VIEWER_REASON
    : !complete(scope)
      ? "Complete the scope first."
      : !rule
        ? "Fix the fields marked above."
        : !dirty
          ? "No changes to save."
          : previewPossible && !previewed
            ? "Preview the change first (backtest of the last 24 h)."
            : null;

  return (
    <>
      <h1>Thresholds</h1>
      <div className="layout-2">
        <div>
          <ScopePicker scope={scope} onChange={setScope} devices={devices.data ?? []} />
          <section className="card" aria-labelledby="inherit-h">
            <h2 id="inherit-h">What {scope} inherits and overrides</h2>
            <p className="muted">Resolution order: {chain.join(" › ")}</p>
            {rules.isPending ? (
              <Loading what="rules" />
            ) : (
              <table data-testid="inheritance">
                <thead>
                  <tr>
                    <th scope="col">Setting</th>
                    <th scope="col">Value</th>
                    <th scope="col">From</th>
                  </tr>
                </thead>
                <tbody>
                  {origins.map((o) => (
                    <tr key={o.setting}>
                      <th scope="row">{o.setting}</th>
                      <td>{o.value}</td>
                      <td>
                        {o.overridden ? (
                          <span className="badge override">set here</span>
                        ) : (
                          <span className="scope">inherited from {o.scope}</span>
                        )}
                      </td>
                    </tr>
                  ))}
                  {origins.length === 0 && (
                    <tr>
                      <td colSpan={3}>Nothing set along this chain: detector defaults apply.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Edit {scope}</h2>
            <p className="muted">
              {stored
                ? `Stored rule, last changed ${fmtTime(stored.updatedAt)} by ${stored.updatedBy ?? "?"}.`
                : "No rule stored at this scope: everything is inherited."}
            </p>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (!saveBlocked && rule) save.mutate(rule);
              }}
            >
              <fieldset
                className="bare"
                disabled={viewer}
                aria-describedby={viewer ? "thr-viewer-reason" : undefined}
              >
                <Editor form={form} setForm={setForm} errors={errors} />
              </fieldset>
              <div className="actions">
                {previewPossible ? (
                  <>
                    <label>
                      Preview on device
                      <select value={deviceForPreview} onChange={(e) => setPreviewDevice(e.target.value)}>
                        {candidates.map((d) => (
                          <option key={d.deviceId}>{d.deviceId}</option>
                        ))}
                      </select>
                    </label>
                    <button
                      type="button"
                      disabled={!rule || backtest.isPending}
                      onClick={() =>
                        rule && deviceForPreview && backtest.mutate({ deviceId: deviceForPreview, rule })
                      }
                    >
                      {backtest.isPending ? "Replaying…" : "Preview (last 24 h)"}
                    </button>
                  </>
                ) : (
                  <p className="muted">No registered device in this scope to preview on.</p>
                )}
                <button
                  type="submit"
                  disabled={saveBlocked !== null || save.isPending}
                  aria-describedby="save-reason"
                >
                  {save.isPending ? "Saving…" : "Save"}
                </button>
                {stored && (
                  <button
                    type="button"
                    className="danger"
                    disabled={viewer || remove.isPending}
                    onClick={() => {
                      if (
                        window.confirm(
                          `Delete the rule of ${scope}? Its settings fall back to the wider scopes.`,
                        )
                      )
                        remove.mutate();
                    }}
                  >
                    Delete rule
                  </button>
                )}
              </div>
              <p id="save-reason" className="reason" data-testid="save-reason">
                {save.isSuccess && !dirty ? null : saveBlocked}
              </p>
              {save.isSuccess && !dirty && (
                <p className="saved" role="status" data-testid="save-status">
                  Saved.{" "}
                  {save.data.updatedBy
                    ? `Recorded as ${save.data.updatedBy}, ${fmtTime(save.data.updatedAt)}.`
                    : ""}
                </p>
              )}
              {viewer && (
                <p id="thr-viewer-reason" className="sr-only">
                  {VIEWER_REASON}
                </p>
              )}
              {preview && previewed && <BacktestSummary result={preview.result} />}
              {deviceForPreview && scope !== `devices/${deviceForPreview}` && previewPossible && (
                <p className="hint">
                  The preview replays {deviceForPreview}'s readings with this rule applied at the device's own
                  scope.
                </p>
              )}
              <ErrorNote error={backtest.error ?? save.error ?? remove.error} />
            </form>
          </section>
        </div>
        <section className="card" aria-labelledby="hist-h">
          <h2 id="hist-h">History{complete(scope) ? ` of ${scope}` : ""}</h2>
          <ErrorNote error={history.error} />
          <ol className="timeline" data-testid="history">
            {(history.data ?? []).map((h, n) => (
              <li key={`${h.at}-${n}`}>
                <time dateTime={h.at}>{fmtTime(h.at)}</time> <strong>{h.by}</strong> changed{" "}
                <code>{h.scope}</code>
                <div className="diff">
                  <span>
                    before: <code>{h.before ? JSON.stringify(strip(h.before)) : "none"}</code>
                  </span>
                  <span>
                    after: <code>{h.after ? JSON.stringify(strip(h.after)) : "deleted"}</code>
                  </span>
                </div>
              </li>
            ))}
          </ol>
          {history.data?.length === 0 && <p className="muted">No changes recorded.</p>}
        </section>
      </div>
    </>
  );
}

/** History entries may carry the stored metadata; show the settings only. */
function strip(rule: RuleBody & { scope?: string; updatedAt?: string; updatedBy?: string }): RuleBody {
  const { scope: _s, updatedAt: _a, updatedBy: _b, ...rest } = rule;
  return rest;
}
