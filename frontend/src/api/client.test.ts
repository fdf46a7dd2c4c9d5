import { delay, http, HttpResponse } from 'msw';
import type { JsonBodyType } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import { config, parseConfig } from '../config';
import { detectBatch, detectImage } from '../features/detect/api/detect';
import { getModels } from '../features/detect/api/models';
import { seen } from '../test/handlers';
import { imageFile, modelsResponse } from '../test/fixtures';
import { server } from '../test/server';
import { ApiError } from './errors';

const limits = modelsResponse.limits;

function failWith(status: number, body: JsonBodyType) {
  server.use(http.post('/api/v1/detect', () => HttpResponse.json(body, { status })));
}

async function caught(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the request to fail');
}

describe('API client', () => {
  const originalTimeout = config.requestTimeoutMs;
  afterEach(() => {
    config.requestTimeoutMs = originalTimeout;
  });

  it('reads the model list with limits', async () => {
    const data = await getModels();
    expect(data.default_model).toBe('cnn-crops');
    expect(data.models.map((m) => m.name)).toEqual(['cnn-crops', 'svm-legacy']);
    expect(data.limits.max_batch_files).toBe(32);
  });

  it('sends the file as multipart field "file" with model and heatmap in the query', async () => {
    const result = await detectImage(imageFile('ai-cat.png', 'image/png'), { model: 'svm-legacy', heatmap: true });
    expect(result.verdict).toBe('ai_generated');
    expect(result.heatmap).toMatch(/^data:image\/png;base64,/);
    expect(seen[0]!.url.pathname).toBe('/api/v1/detect');
    expect(seen[0]!.url.searchParams.get('model')).toBe('svm-legacy');
    expect(seen[0]!.url.searchParams.get('heatmap')).toBe('true');
    expect(seen[0]!.fields).toEqual([['file', 'ai-cat.png']]);
  });

  it('leaves out heatmap and model when not asked for', async () => {
    await detectImage(imageFile());
    expect(seen[0]!.url.search).toBe('');
  });

  it('sends a batch as repeated "files" fields and keeps per-file errors', async () => {
    const answer = await detectBatch([
      imageFile('a.jpg'),
      imageFile('b.jpg', 'image/jpeg', 'not an image'),
      imageFile('ai-c.png', 'image/png'),
    ]);
    expect(seen[0]!.fields.map(([k]) => k)).toEqual(['files', 'files', 'files']);
    expect(answer.results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(answer.results[1]!.error?.code).toBe('unsupported_media_type');
  });

  it.each([
    [400, 'empty_input', 'The file is empty'],
    [400, 'bad_base64', 'arrived garbled'],
    [400, 'undecodable_image', 'damaged or incomplete'],
    [413, 'too_many_bytes', 'The file is too large. The limit is 20 MB.'],
    [413, 'too_many_pixels', 'too many pixels (the limit is 50 megapixels)'],
    [413, 'too_many_files', 'Send at most 32 per batch'],
    [415, 'unsupported_media_type', 'not a picture the detector can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF.'],
    [422, 'invalid_model_name', 'model name is not valid'],
    [404, 'unknown_model', 'not available on the server'],
    [429, 'rate_limited', 'Too many requests'],
    [503, 'not_ready', 'still starting up'],
    [503, 'overloaded', 'busy right now'],
    [503, 'timeout', 'took too long on this picture'],
  ])('maps HTTP %i %s to a plain sentence', async (status, code, sentence) => {
    failWith(status, { detail: `server says ${code}`, code });
    const err = await caught(detectImage(imageFile(), { limits }));
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(err.detail).toBe(`server says ${code}`);
    expect(err.message).toContain(sentence);
  });

  it('reads FastAPI validation errors, whose detail is a list', async () => {
    failWith(422, { detail: [{ loc: ['query', 'heatmap'], msg: 'Input should be a valid boolean', type: 'bool_parsing' }] });
    const err = await caught(detectImage(imageFile()));
    expect(err.code).toBe('validation_error');
    expect(err.detail).toBe('Input should be a valid boolean');
    expect(err.message).toBe('The detector did not accept the request as sent.');
  });

  it.each([
    [500, 'internal problem'],
    [502, 'unreachable'],
    [503, 'not available right now'],
    [413, 'too large'],
  ])('falls back on the status (%i) when the code is unknown', async (status, sentence) => {
    failWith(status, { detail: 'something', code: 'brand_new_code' });
    expect((await caught(detectImage(imageFile()))).message).toContain(sentence);
  });

  it('copes with an error page that is not JSON (a proxy in between)', async () => {
    server.use(http.post('/api/v1/detect', () => new HttpResponse('<html>Bad gateway</html>', { status: 502 })));
    const err = await caught(detectImage(imageFile()));
    expect(err.code).toBe('http_502');
    expect(err.message).toContain('unreachable');
  });

  it('treats a 200 that is not JSON as a bad response', async () => {
    server.use(http.post('/api/v1/detect', () => new HttpResponse('<html>index</html>', { status: 200 })));
    expect((await caught(detectImage(imageFile()))).code).toBe('bad_response');
  });

  it('says the network is down when the request cannot be made', async () => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.error()));
    const err = await caught(detectImage(imageFile()));
    expect(err.code).toBe('network_error');
    expect(err.message).toBe('Cannot reach the detector. Check your connection, then try again.');
  });

  it('gives up after the client-side timeout instead of waiting forever', async () => {
    config.requestTimeoutMs = 50;
    server.use(
      http.post('/api/v1/detect', async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const err = await caught(detectImage(imageFile()));
    expect(err.code).toBe('client_timeout');
    expect(err.message).toContain('No answer from the detector in time');
  });

  it('reports a cancellation from outside as aborted, not as a timeout', async () => {
    server.use(
      http.post('/api/v1/detect', async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const controller = new AbortController();
    const pending = detectImage(imageFile(), { signal: controller.signal });
    controller.abort();
    expect((await caught(pending)).code).toBe('aborted');
  });
});

describe('config', () => {
  it('defaults to the same origin and a 60 s timeout', () => {
    expect(parseConfig({})).toEqual({ apiBaseUrl: '', requestTimeoutMs: 60_000, batchTimeoutMs: 180_000 });
  });

  it('accepts a path or http(s) URL and trims the trailing slash', () => {
    expect(parseConfig({ VITE_API_BASE_URL: '/detector/' }).apiBaseUrl).toBe('/detector');
    expect(parseConfig({ VITE_API_BASE_URL: 'https://example.org' }).apiBaseUrl).toBe('https://example.org');
  });

  it('refuses bad values at start', () => {
    expect(() => parseConfig({ VITE_API_BASE_URL: 'ftp://x' })).toThrow(/VITE_API_BASE_URL/);
    expect(() => parseConfig({ VITE_REQUEST_TIMEOUT_MS: '-5' })).toThrow(/VITE_REQUEST_TIMEOUT_MS/);
    expect(() => parseConfig({ VITE_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(/VITE_REQUEST_TIMEOUT_MS/);
  });
});
