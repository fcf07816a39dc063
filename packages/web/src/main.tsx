import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { HashRouter } from "react-router";
import { api, ApiError } from "./api.ts";
import { signIn } from "./auth.ts";
import { App } from "./App.tsx";
import { MeContext } from "./session-context.ts";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

function Fatal({ message }: { message: string }) {
  return (
    <main className="fatal">
      <h1>Driftwatch console</h1>
      <p role="alert">{message}</p>
    </main>
  );
}

async function boot() {
  try {
    await signIn();
    const me = await api.me();
    const queries = new QueryClient({
      defaultOptions: {
        queries: {
          staleTime: 2_000,
          retry: (n, error) => !(error instanceof ApiError && error.status < 500) && n < 2,
        },
      },
    });
    root.render(
      <StrictMode>
        <MeContext.Provider value={me}>
          <QueryClientProvider client={queries}>
            <HashRouter>
              <App />
            </HashRouter>
          </QueryClientProvider>
        </MeContext.Provider>
      </StrictMode>,
    );
  } catch (error) {
    root.render(
      <Fatal message={`Sign-in failed: ${error instanceof Error ? error.message : String(error)}`} />,
    );
  }
}

void boot();
