import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { ago, ErrorNote, fmtTime, Loading } from "../components/Common.tsx";
import { devicesQuery } from "../queries.ts";

const distinct = (values: (string | undefined)[]) =>
  [...new Set(values.filter((v): v is string => !!v))].sort();

/** Fleet: every registered device with last seen and open incidents; search and filters (server-side). */
export function FleetPage() {
  const [filters, setFilters] = useState({ search: "", site: "", manufacturer: "", model: "" });
  // The search box asks the API once typing pauses, not on every key.
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setSearch(filters.search.trim()), 250);
    return () => clearTimeout(timer);
  }, [filters.search]);
  const all = useQuery(devicesQuery());
  const filtered = useQuery({ ...devicesQuery({ ...filters, search }), placeholderData: keepPreviousData });
  const options = {
    site: distinct((all.data ?? []).map((d) => d.site)),
    manufacturer: distinct((all.data ?? []).map((d) => d.manufacturer)),
    model: distinct((all.data ?? []).map((d) => d.model)),
  };
  const set = (key: keyof typeof filters) => (e: { target: { value: string } }) =>
    setFilters((f) => ({ ...f, [key]: e.target.value }));
  const devices = filtered.data ?? [];
  return (
    <>
      <h1>Fleet</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={filters.search}
            onChange={set("search")}
            placeholder="device id, site, model…"
          />
        </label>
        {(["site", "manufacturer", "model"] as const).map((key) => (
          <label key={key}>
            {key[0].toUpperCase() + key.slice(1)}
            <select value={filters[key]} onChange={set(key)}>
              <option value="">All</option>
              {options[key].map((v) => (
                <option key={v}>{v}</option>
              ))}
            </select>
          </label>
        ))}
      </form>
      <ErrorNote error={filtered.error} />
      {filtered.isPending ? (
        <Loading what="devices" />
      ) : (
        <div className="table-wrap">
          <table>
            <caption>
              {devices.length} device{devices.length === 1 ? "" : "s"}
            </caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Manufacturer</th>
                <th scope="col">Model</th>
                <th scope="col">Site</th>
                <th scope="col">Last seen</th>
                <th scope="col">Open incidents</th>
              </tr>
            </thead>
            <tbody>
              {devices.map((d) => (
                <tr key={d.deviceId} data-testid={`device-row-${d.deviceId}`}>
                  <th scope="row">
                    <Link to={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</Link>
                  </th>
                  <td>{d.manufacturer}</td>
                  <td>{d.model}</td>
                  <td>{d.site ?? "—"}</td>
                  <td title={fmtTime(d.lastSeen)}>{ago(d.lastSeen)}</td>
                  <td>
                    {d.openIncidents > 0 ? (
                      <Link
                        to={`/incidents?deviceId=${encodeURIComponent(d.deviceId)}`}
                        className="badge state-open"
                      >
                        {d.openIncidents}
                      </Link>
                    ) : (
                      0
                    )}
                  </td>
                </tr>
              ))}
              {devices.length === 0 && (
                <tr>
                  <td colSpan={6}>
                    No devices match. Register devices with `npx driftwatch devices import`.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
