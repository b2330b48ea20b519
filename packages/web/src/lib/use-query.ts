// A small useQuery: runs a loader when its key changes, with loading, error, data and reload.
import { useCallback, useEffect, useRef, useState } from "react";

export type QueryState<T> =
  | { status: "loading"; data: T | undefined; error: undefined }
  | { status: "error"; data: T | undefined; error: unknown }
  | { status: "success"; data: T; error: undefined };

export interface QueryResult<T> {
  state: QueryState<T>;
  reload: () => void;
}

export function useQuery<T>(key: string | null, load: () => Promise<T>): QueryResult<T> {
  const [state, setState] = useState<QueryState<T>>({ status: "loading", data: undefined, error: undefined });
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const loadedKey = useRef<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the retry trigger: reload() bumps it to run the loader again
  useEffect(() => {
    if (key === null) return;
    let isCurrent = true;
    // Keep showing the old data while reloading the same thing, never another key's data.
    const isSameKey = loadedKey.current === key;
    setState((previous) => ({ status: "loading", data: isSameKey ? previous.data : undefined, error: undefined }));
    loadRef.current().then(
      (data) => {
        if (!isCurrent) return;
        loadedKey.current = key;
        setState({ status: "success", data, error: undefined });
      },
      (error: unknown) => {
        if (isCurrent) setState((previous) => ({ status: "error", data: previous.data, error }));
      },
    );
    return () => {
      isCurrent = false;
    };
  }, [key, attempt]);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);
  return { state, reload };
}
