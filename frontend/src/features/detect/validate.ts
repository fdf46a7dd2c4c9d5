import { ApiError, messageForCode } from '../../api/errors';
import type { Limits } from '../../api/types';

/** Used until the server's limits arrive (and if they never do); the server checks again. */
export const DEFAULT_LIMITS: Limits = {
  max_bytes: 20 * 1024 * 1024,
  max_pixels: 50_000_000,
  max_batch_files: 32,
  accepted_types: ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/tiff'],
};

const TYPE_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jfif: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
};

/** The file's declared type; browsers leave it empty for unknown extensions on some systems. */
export function declaredType(file: File): string {
  if (file.type) return file.type.toLowerCase();
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return TYPE_BY_EXTENSION[ext] ?? '';
}

function reject(code: string, limits: Limits): ApiError {
  return new ApiError(messageForCode(code, limits) ?? code, { status: 0, code });
}

/**
 * Checks that need no upload: the declared type and the size. The content itself is the
 * server's to judge (a text file renamed .jpg passes here and gets the server's 415).
 */
export function checkFile(file: File, limits: Limits = DEFAULT_LIMITS): ApiError | null {
  const type = declaredType(file);
  const accepted = limits.accepted_types.map((t) => t.toLowerCase());
  if (!type || !accepted.includes(type === 'image/jpg' ? 'image/jpeg' : type)) return reject('client_not_image', limits);
  if (file.size === 0) return reject('empty_input', limits);
  if (file.size > limits.max_bytes) return reject('client_too_large', limits);
  return null;
}

export function checkBatchSize(count: number, limits: Limits = DEFAULT_LIMITS): ApiError | null {
  return count > limits.max_batch_files ? reject('client_too_many_files', limits) : null;
}
