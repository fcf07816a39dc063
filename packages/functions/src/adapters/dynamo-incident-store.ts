import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { IncidentNotFoundError } from "@driftwatch/core/incidents/errors";
import { ACTIVE_STATES, incidentSchema, type Incident } from "@driftwatch/core/incidents/incident";
import type {
  FoldOutcome,
  IncidentChange,
  IncidentRecord,
  IncidentStore,
  OpenOutcome,
} from "@driftwatch/core/ports/incident-store";
import { TransientError } from "@driftwatch/core/shared/errors";

/**
 * `IncidentStore` on DynamoDB (dynalite locally), table `tables.incidents`:
 * - `INCIDENT#<id>`: the incident (entity `incident`, in the `byEntity` index by `openedAt`), its timeline (a list),
 *   `alertIds` (string set: folded alerts, for idempotent folds), `notified` (string set), `taskToken`.
 * - `OPEN#<deviceId>#<rule>`: the dedupe pointer `{incidentId, createdAt}` while the incident is active.
 * Every write is conditional; no transactions (dynalite has none), see ADR 0701.
 */
export function createDynamoIncidentStore(client: DynamoDBClient, tableName: string): IncidentStore {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const incidentKey = (id: string) => ({ pk: `INCIDENT#${id}` });
  const pointerKey = (deviceId: string, rule: string) => ({
    pk: `OPEN#${encodeURIComponent(deviceId)}#${encodeURIComponent(rule)}`,
  });

  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      if (error instanceof IncidentNotFoundError) throw error;
      throw new TransientError(`incident store: ${what} failed`, { cause: error });
    }
  };

  const getItem = (id: string) =>
    wrap("get", async () => {
      const out = await doc.send(
        new GetCommand({ TableName: tableName, Key: incidentKey(id), ConsistentRead: true }),
      );
      return out.Item;
    });

  const toRecord = (item: Record<string, unknown>): IncidentRecord => ({
    incident: incidentSchema.parse(item),
    taskToken: typeof item.taskToken === "string" ? item.taskToken : undefined,
    notified: item.notified instanceof Set ? [...(item.notified as Set<string>)] : [],
  });

  const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

  return {
    async get(id) {
      const item = await getItem(id);
      return item ? toRecord(item) : undefined;
    },

    async list(options = {}) {
      const limit = options.limit ?? 1000;
      const incidents: Incident[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await wrap("list", () =>
          doc.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: "byEntity",
              KeyConditionExpression: "entity = :e",
              ExpressionAttributeValues: { ":e": "incident" },
              ScanIndexForward: false,
              ExclusiveStartKey: start,
              Limit: Math.min(limit - incidents.length, 200),
            }),
          ),
        );
        for (const item of out.Items ?? []) incidents.push(incidentSchema.parse(item));
        start = out.LastEvaluatedKey;
      } while (start && incidents.length < limit);
      return incidents;
    },

    async openPointer(deviceId, rule) {
      const out = await wrap("read pointer", () =>
        doc.send(
          new GetCommand({ TableName: tableName, Key: pointerKey(deviceId, rule), ConsistentRead: true }),
        ),
      );
      if (!out.Item) return undefined;
      return { incidentId: String(out.Item.incidentId), createdAt: String(out.Item.createdAt) };
    },

    async open(incident): Promise<OpenOutcome> {
      const pointer = {
        ...pointerKey(incident.deviceId, incident.rule),
        entity: "open-pointer",
        incidentId: incident.id,
        createdAt: incident.openedAt,
      };
      try {
        await wrap("open pointer", () =>
          doc.send(
            new PutCommand({
              TableName: tableName,
              Item: pointer,
              ConditionExpression: "attribute_not_exists(pk)",
            }),
          ),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const existing = await this.openPointer(incident.deviceId, incident.rule);
        if (existing && existing.incidentId !== incident.id) {
          return {
            outcome: "conflict",
            openIncidentId: existing.incidentId,
            pointerCreatedAt: existing.createdAt,
          };
        }
      }
      try {
        await wrap("open incident", () =>
          doc.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...incidentKey(incident.id),
                entity: "incident",
                ...incident,
                alertIds: new Set([incident.openedByAlertId]),
              },
              ConditionExpression: "attribute_not_exists(pk)",
            }),
          ),
        );
        return { outcome: "opened" };
      } catch (error) {
        if (isConditionFailure(error)) return { outcome: "exists" };
        throw error;
      }
    },

    async takeOverPointer(incident, staleIncidentId) {
      try {
        await wrap("take over pointer", () =>
          doc.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...pointerKey(incident.deviceId, incident.rule),
                entity: "open-pointer",
                incidentId: incident.id,
                createdAt: incident.openedAt,
              },
              ConditionExpression: "incidentId = :stale",
              ExpressionAttributeValues: { ":stale": staleIncidentId },
            }),
          ),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async fold(incidentId, occurrence): Promise<FoldOutcome> {
      const names: Record<string, string> = { "#state": "state", "#timeline": "timeline" };
      const values: Record<string, unknown> = {
        ":one": 1,
        ":aset": new Set([occurrence.alertId]),
        ":alertId": occurrence.alertId,
        ":at": occurrence.at,
        ...Object.fromEntries(ACTIVE_STATES.map((s, i) => [`:s${i}`, s])),
      };
      let update = "ADD occurrences :one, alertIds :aset SET lastOccurrenceAt = :at";
      if (occurrence.entry) {
        update += ", #timeline = list_append(#timeline, :entries)";
        values[":entries"] = [occurrence.entry];
      }
      try {
        await wrap("fold", () =>
          doc.send(
            new UpdateCommand({
              TableName: tableName,
              Key: incidentKey(incidentId),
              UpdateExpression: update,
              ConditionExpression: `attribute_exists(pk) AND #state IN (${ACTIVE_STATES.map((_, i) => `:s${i}`).join(", ")}) AND NOT contains(alertIds, :alertId)`,
              ExpressionAttributeNames: occurrence.entry ? names : { "#state": "state" },
              ExpressionAttributeValues: values,
            }),
          ),
        );
        return "folded";
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const item = await getItem(incidentId);
        if (!item) return "missing";
        if (item.alertIds instanceof Set && (item.alertIds as Set<string>).has(occurrence.alertId))
          return "duplicate";
        return "inactive";
      }
    },

    async update(incidentId, change: IncidentChange) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      const removes: string[] = [];
      let n = 0;
      const setField = (field: string, value: unknown) => {
        const k = `#f${n}`;
        const v = `:v${n++}`;
        names[k] = field;
        values[v] = value;
        sets.push(`${k} = ${v}`);
      };
      if (change.state) setField("state", change.state);
      for (const [field, value] of Object.entries(change.set ?? {}))
        if (value !== undefined) setField(field, value);
      if (change.entry) {
        names["#timeline"] = "timeline";
        values[":entries"] = [
          Object.fromEntries(Object.entries(change.entry).filter(([, v]) => v !== undefined)),
        ];
        sets.push("#timeline = list_append(#timeline, :entries)");
      }
      if (typeof change.taskToken === "string") setField("taskToken", change.taskToken);
      if (change.taskToken === null) {
        names["#token"] = "taskToken";
        removes.push("#token");
      }
      let condition = "attribute_exists(pk)";
      if (change.expectStates?.length) {
        names["#state"] = "state";
        condition += ` AND #state IN (${change.expectStates
          .map((s, i) => {
            values[`:e${i}`] = s;
            return `:e${i}`;
          })
          .join(", ")})`;
      }
      const expression = [
        sets.length ? `SET ${sets.join(", ")}` : "",
        removes.length ? `REMOVE ${removes.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join(" ");
      let previous: Record<string, unknown> | undefined;
      try {
        const out = await wrap("update", () =>
          doc.send(
            expression
              ? new UpdateCommand({
                  TableName: tableName,
                  Key: incidentKey(incidentId),
                  UpdateExpression: expression,
                  ConditionExpression: condition,
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
                  ReturnValues: "ALL_OLD",
                })
              : new GetCommand({ TableName: tableName, Key: incidentKey(incidentId), ConsistentRead: true }),
          ),
        );
        const raw = out as { Attributes?: Record<string, unknown>; Item?: Record<string, unknown> };
        previous = raw.Attributes ?? raw.Item;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        if (!(await getItem(incidentId))) throw new IncidentNotFoundError(`incident ${incidentId} not found`);
        return undefined;
      }
      const item = await getItem(incidentId);
      if (!item) throw new IncidentNotFoundError(`incident ${incidentId} not found`);
      return {
        incident: incidentSchema.parse(item),
        previousTaskToken: typeof previous?.taskToken === "string" ? previous.taskToken : undefined,
      };
    },

    async markNotified(incidentId, key, entry, tier, round) {
      await wrap("mark notified", () =>
        doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: incidentKey(incidentId),
            UpdateExpression:
              "ADD notified :k SET #timeline = list_append(#timeline, :entries), #tier = :tier, #round = :round",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeNames: { "#timeline": "timeline", "#tier": "tier", "#round": "round" },
            ExpressionAttributeValues: {
              ":k": new Set([key]),
              ":entries": [Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined))],
              ":tier": tier,
              ":round": round,
            },
          }),
        ),
      );
    },

    async closePointer(deviceId, rule, incidentId) {
      try {
        await wrap("close pointer", () =>
          doc.send(
            new DeleteCommand({
              TableName: tableName,
              Key: pointerKey(deviceId, rule),
              ConditionExpression: "incidentId = :id",
              ExpressionAttributeValues: { ":id": incidentId },
            }),
          ),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
}
