import { useQuery } from "@tanstack/react-query";
import { NavLink, Route, Routes } from "react-router";
import { devicesQuery, incidentsQuery } from "./queries.ts";
import { useMe } from "./session-context.ts";
import { FleetPage } from "./pages/FleetPage.tsx";
import { DevicePage } from "./pages/DevicePage.tsx";
import { IncidentsPage } from "./pages/IncidentsPage.tsx";
import { ThresholdsPage } from "./pages/ThresholdsPage.tsx";

/** Live counters in the header: open incidents and devices, refreshed by polling. */
function Counters() {
  const incidents = useQuery(incidentsQuery());
  const devices = useQuery(devicesQuery());
  const list = incidents.data ?? [];
  const open = list.filter((i) => i.state !== "resolved").length;
  const unacked = list.filter((i) => i.state === "open" || i.state === "unacknowledged").length;
  return (
    <dl className="counters" aria-live="polite" aria-label="Live counters">
      <div>
        <dt>Active incidents</dt>
        <dd data-testid="count-active">{incidents.data ? open : "…"}</dd>
      </div>
      <div>
        <dt>Unacknowledged</dt>
        <dd data-testid="count-unacked">{incidents.data ? unacked : "…"}</dd>
      </div>
      <div>
        <dt>Devices</dt>
        <dd data-testid="count-devices">{devices.data ? devices.data.length : "…"}</dd>
      </div>
    </dl>
  );
}

export function App() {
  const me = useMe();
  return (
    <>
      {/* Hash routes own the fragment: the skip link moves focus itself instead of navigating to `#main`. */}
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="top">
        <div className="brand">Driftwatch</div>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Fleet
          </NavLink>
          <NavLink to="/incidents">Incidents</NavLink>
          <NavLink to="/thresholds">Thresholds</NavLink>
        </nav>
        <Counters />
        <div className="who" data-testid="who">
          {me.user} <span className={`badge role-${me.role}`}>{me.role}</span>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<FleetPage />} />
          <Route path="/devices/:deviceId" element={<DevicePage />} />
          <Route path="/incidents" element={<IncidentsPage />} />
          <Route path="/incidents/:incidentId" element={<IncidentsPage />} />
          <Route path="/thresholds" element={<ThresholdsPage />} />
          <Route path="*" element={<p>No such page. Use the navigation above.</p>} />
        </Routes>
      </main>
    </>
  );
}
