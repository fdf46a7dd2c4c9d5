import type { Limits } from './types';

/** Codes the page itself produces, next to the server's codes. */
export type ClientErrorCode =
  | 'network_error'
  | 'client_timeout'
  | 'aborted'
  | 'bad_response'
  | 'client_too_large'
  | 'client_not_image'
  | 'client_too_many_files';

/**
 * Any failure of a request, with a sentence a person understands (`message`) and the
 * technical details kept for the curious (`status`, `code`, `detail`).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;

  constructor(message: string, opts: { status: number; code: string; detail?: string }) {
    super(message);
    this.name = 'ApiError';
    this.status = opts.status;
    this.code = opts.code;
    this.detail = opts.detail ?? '';
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) {
    const mb = bytes / (1024 * 1024);
    return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  }
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

const TYPE_NAMES: Record<string, string> = { webp: 'WebP', 'svg+xml': 'SVG' };

/** ["image/jpeg", "image/webp"] -> "JPEG or WebP" */
export function formatTypes(types: string[]): string {
  const names = types.map((t) => {
    const sub = t.replace(/^image\//, '');
    return TYPE_NAMES[sub] ?? sub.toUpperCase();
  });
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

const DEFAULT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/tiff'];

/** The sentence shown for a server (or client) error code. */
export function messageForCode(code: string, limits?: Limits | null): string | null {
  const types = formatTypes(limits?.accepted_types ?? DEFAULT_TYPES);
  switch (code) {
    case 'empty_input':
      return 'The file is empty. Choose a picture that has content.';
    case 'bad_base64':
      return 'The picture arrived garbled and could not be read. Please try again.';
    case 'undecodable_image':
      return 'This picture seems damaged or incomplete, so it could not be read.';
    case 'too_many_bytes':
    case 'client_too_large':
      return limits
        ? `The file is too large. The limit is ${formatBytes(limits.max_bytes)}.`
        : 'The file is too large for the detector.';
    case 'too_many_pixels':
      return limits
        ? `The picture has too many pixels (the limit is ${Math.round(limits.max_pixels / 1e6)} megapixels). Scale it down and try again.`
        : 'The picture has too many pixels. Scale it down and try again.';
    case 'too_many_files':
    case 'client_too_many_files':
      return limits
        ? `Too many files at once. Send at most ${limits.max_batch_files} per batch.`
        : 'Too many files at once. Send fewer per batch.';
    case 'unsupported_media_type':
    case 'client_not_image':
      return `This file is not a picture the detector can read. Use ${types}.`;
    case 'invalid_model_name':
      return 'The chosen model name is not valid. Pick a model from the list.';
    case 'unknown_model':
      return 'The chosen model is not available on the server. Reload the page to refresh the list.';
    case 'rate_limited':
      return 'Too many requests in a short time. Wait a moment, then try again.';
    case 'not_ready':
      return 'The detector is still starting up (loading its models). Try again in a minute.';
    case 'overloaded':
      return 'The detector is busy right now. Try again in a moment.';
    case 'timeout':
      return 'The detector took too long on this picture. Try again, or try a smaller picture.';
    case 'network_error':
      return 'Cannot reach the detector. Check your connection, then try again.';
    case 'client_timeout':
      return 'No answer from the detector in time, so the request was stopped. Try again in a moment.';
    case 'aborted':
      return 'The request was cancelled.';
    case 'bad_response':
      return 'The detector sent an answer this page does not understand. Try reloading the page.';
    default:
      return null;
  }
}

/** Fallback when the code is unknown or missing: say something sensible from the status. */
export function messageForStatus(status: number): string {
  if (status === 400) return 'The detector could not process this request.';
  if (status === 404) return 'The detector does not know this address or model.';
  if (status === 413) return 'The upload is too large for the detector.';
  if (status === 415) return messageForCode('unsupported_media_type') ?? '';
  if (status === 422) return 'The detector did not accept the request as sent.';
  if (status === 429) return messageForCode('rate_limited') ?? '';
  if (status === 502 || status === 504) return 'The detector is unreachable right now. Try again in a moment.';
  if (status === 503) return 'The detector is not available right now. Try again in a minute.';
  if (status >= 500) return 'The detector ran into an internal problem. Try again later.';
  return `The request failed (HTTP ${status}).`;
}

/** Build an ApiError from a status and whatever JSON body came back. */
export function errorFromResponse(status: number, body: unknown, limits?: Limits | null): ApiError {
  let code = '';
  let detail = '';
  if (body && typeof body === 'object') {
    const b = body as { code?: unknown; detail?: unknown };
    if (typeof b.code === 'string') code = b.code;
    if (typeof b.detail === 'string') detail = b.detail;
    else if (Array.isArray(b.detail)) {
      // FastAPI validation errors: a list of {loc, msg, type}.
      detail = b.detail
        .map((d) => (d && typeof d === 'object' && 'msg' in d ? String((d as { msg: unknown }).msg) : String(d)))
        .join('; ');
      code = code || 'validation_error';
    }
  }
  const message = messageForCode(code, limits) ?? messageForStatus(status);
  return new ApiError(message, { status, code: code || `http_${status}`, detail });
}
