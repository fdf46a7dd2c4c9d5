import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../../api/errors';
import type { ModelsResponse } from '../../../api/types';
import { getModels } from './models';

export type ModelsState =
  | { status: 'loading'; data: null; error: null }
  | { status: 'ready'; data: ModelsResponse; error: null }
  | { status: 'error'; data: null; error: ApiError };

export function useModels(): ModelsState & { reload: () => void } {
  const [state, setState] = useState<ModelsState>({ status: 'loading', data: null, error: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    getModels(controller.signal).then(
      (data) => setState({ status: 'ready', data, error: null }),
      (err: unknown) => {
        if (controller.signal.aborted) return;
        const error = err instanceof ApiError ? err : new ApiError(String(err), { status: 0, code: 'unknown' });
        setState({ status: 'error', data: null, error });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  const reload = useCallback(() => {
    setState({ status: 'loading', data: null, error: null });
    setAttempt((a) => a + 1);
  }, []);

  return { ...state, reload };
}
