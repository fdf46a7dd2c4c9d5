import { request } from '../../../api/client';
import type { ModelsResponse } from '../../../api/types';

/** GET /api/v1/models: the loaded models, the default one, and the server's upload limits. */
export function getModels(signal?: AbortSignal): Promise<ModelsResponse> {
  return request<ModelsResponse>('/api/v1/models', { signal, timeoutMs: 15_000 });
}
