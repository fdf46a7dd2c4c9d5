import { request } from '../../../api/client';
import { config } from '../../../config';
import type { BatchResponse, DetectionResult, Limits } from '../../../api/types';

export interface DetectOptions {
  model?: string;
  heatmap?: boolean;
  signal?: AbortSignal;
  limits?: Limits | null;
  timeoutMs?: number;
}

/** POST /api/v1/detect with one file (multipart field `file`). */
export function detectImage(file: File, opts: DetectOptions = {}): Promise<DetectionResult> {
  const body = new FormData();
  body.append('file', file, file.name);
  return request<DetectionResult>('/api/v1/detect', {
    method: 'POST',
    body,
    query: { model: opts.model, heatmap: opts.heatmap ? 'true' : undefined },
    signal: opts.signal,
    limits: opts.limits,
    timeoutMs: opts.timeoutMs,
  });
}

/** POST /api/v1/detect/batch with many files (multipart fields `files`), answers in order. */
export function detectBatch(files: File[], opts: DetectOptions = {}): Promise<BatchResponse> {
  const body = new FormData();
  for (const file of files) body.append('files', file, file.name);
  return request<BatchResponse>('/api/v1/detect/batch', {
    method: 'POST',
    body,
    query: { model: opts.model },
    signal: opts.signal,
    limits: opts.limits,
    timeoutMs: opts.timeoutMs ?? config.batchTimeoutMs,
  });
}
