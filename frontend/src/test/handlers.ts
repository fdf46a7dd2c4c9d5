import { http, HttpResponse } from 'msw';
import { aiResult, HEATMAP, modelsResponse, realResult } from './fixtures';

/** What the fake server saw, for assertions on query strings and multipart fields. */
export const seen: { url: URL; fields: [string, string][] }[] = [];

async function record(request: Request) {
  const form = await request.formData();
  const fields: [string, string][] = [];
  for (const [key, value] of form.entries()) fields.push([key, typeof value === 'string' ? value : value.name]);
  seen.push({ url: new URL(request.url), fields });
  return form;
}

/** Text content marks a "not really an image" file, as a real server would see it. */
async function isImage(value: FormDataEntryValue): Promise<boolean> {
  return typeof value !== 'string' && !(await value.text()).startsWith('not an image');
}

export const handlers = [
  http.get('/api/v1/models', () => HttpResponse.json(modelsResponse)),

  http.post('/api/v1/detect', async ({ request }) => {
    const form = await record(request);
    const file = form.get('file');
    if (!file || typeof file === 'string') {
      return HttpResponse.json({ detail: 'No file', code: 'empty_input' }, { status: 400 });
    }
    if (!(await isImage(file))) {
      return HttpResponse.json(
        { detail: 'cannot identify image file', code: 'unsupported_media_type' },
        { status: 415 },
      );
    }
    const heatmap = new URL(request.url).searchParams.get('heatmap') === 'true' ? HEATMAP : null;
    const heatmap_summary = heatmap
      ? 'The right side scored highest (83% likely AI-generated); the left side lowest (12%).'
      : null;
    const result = file.name.includes('ai')
      ? aiResult({ heatmap, heatmap_summary })
      : realResult({ heatmap, heatmap_summary });
    return HttpResponse.json(result);
  }),

  http.post('/api/v1/detect/batch', async ({ request }) => {
    const form = await record(request);
    const results = await Promise.all(
      form.getAll('files').map(async (file) => {
        const filename = typeof file === 'string' ? null : file.name;
        if (!(await isImage(file))) {
          return {
            filename,
            ok: false,
            result: null,
            error: { detail: 'cannot identify image file', code: 'unsupported_media_type' },
          };
        }
        return { filename, ok: true, result: filename?.includes('ai') ? aiResult() : realResult(), error: null };
      }),
    );
    return HttpResponse.json({ results });
  }),
];
