import { describe, expect, it } from 'vitest';
import { imageFile, modelsResponse } from '../../test/fixtures';
import { checkBatchSize, checkFile, declaredType } from './validate';

const limits = { ...modelsResponse.limits, max_bytes: 1000, max_batch_files: 3 };

describe('client-side checks', () => {
  it('passes an accepted image under the size limit', () => {
    expect(checkFile(imageFile('a.webp', 'image/webp'), limits)).toBeNull();
  });

  it('refuses a type the server does not accept', () => {
    const err = checkFile(new File(['hello'], 'notes.txt', { type: 'text/plain' }), limits);
    expect(err?.code).toBe('client_not_image');
    expect(err?.message).toBe('This file is not a picture the detector can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF.');
    expect(checkFile(new File(['<svg/>'], 'x.svg', { type: 'image/svg+xml' }), limits)?.code).toBe('client_not_image');
  });

  it('falls back on the extension when the browser gives no type', () => {
    expect(declaredType(new File(['x'], 'IMG_0001.JPG'))).toBe('image/jpeg');
    expect(checkFile(new File(['x'], 'scan.tiff'), limits)).toBeNull();
    expect(checkFile(new File(['x'], 'README'), limits)?.code).toBe('client_not_image');
  });

  it('refuses a file over the server limit, naming the limit', () => {
    const err = checkFile(new File([new Uint8Array(1001)], 'big.jpg', { type: 'image/jpeg' }), {
      ...limits,
      max_bytes: 1000,
    });
    expect(err?.code).toBe('client_too_large');
    expect(err?.message).toBe('The file is too large. The limit is 1000 bytes.');
    const mb = checkFile(new File([new Uint8Array(3 * 1024 * 1024)], 'big.jpg', { type: 'image/jpeg' }), {
      ...limits,
      max_bytes: 2.5 * 1024 * 1024,
    });
    expect(mb?.message).toBe('The file is too large. The limit is 2.5 MB.');
  });

  it('refuses an empty file', () => {
    expect(checkFile(new File([], 'empty.png', { type: 'image/png' }), limits)?.code).toBe('empty_input');
  });

  it('limits the number of files in a batch', () => {
    expect(checkBatchSize(3, limits)).toBeNull();
    expect(checkBatchSize(4, limits)?.message).toBe('Too many files at once. Send at most 3 per batch.');
  });
});
