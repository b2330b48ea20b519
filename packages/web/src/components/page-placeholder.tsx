// What a page shows while its chunk loads, and what the prerendered shell shows before any script: a polite status.
import { Loading } from "./status-panels.tsx";

export function PagePlaceholder() {
  return (
    <div className="page-placeholder" data-testid="page-placeholder">
      <Loading label="Loading…" />
    </div>
  );
}
