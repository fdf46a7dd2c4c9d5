import { createEvent, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { delay, http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../../App';
import { config } from '../../../config';
import {
  aiResult,
  compressedResult,
  hardJpeg,
  imageFile,
  lightJpeg,
  losslessWebpResult,
  lossyWebpResult,
  modelsResponse,
  realResult,
} from '../../../test/fixtures';
import { seen } from '../../../test/handlers';
import { server } from '../../../test/server';

async function renderReady() {
  const user = userEvent.setup();
  render(<App />);
  await screen.findByRole('combobox', { name: 'Model' });
  return user;
}

const picker = () => screen.getByLabelText('Choose pictures');

describe('detect page', () => {
  const originalTimeout = config.requestTimeoutMs;
  afterEach(() => {
    config.requestTimeoutMs = originalTimeout;
  });

  it('offers the models from /api/v1/models with their headline metrics', async () => {
    const user = await renderReady();
    const select = screen.getByRole('combobox', { name: 'Model' });
    expect(select).toHaveValue('cnn-crops');
    expect(within(select).getAllByRole('option')).toHaveLength(2);
    const metrics = screen.getByLabelText('Measured performance of cnn-crops');
    expect(within(metrics).getByText('Accuracy').nextSibling).toHaveTextContent('93.1%');
    expect(within(metrics).getByText('ROC AUC').nextSibling).toHaveTextContent('97.5%');
    // Next to the figures: their sample size and what the model has (not) seen.
    expect(screen.getByText('Measured on 10 test images.')).toBeInTheDocument();
    expect(screen.getByLabelText('What cnn-crops has seen')).toHaveTextContent(
      'Tested on 10 images: camera photos and fakes from the generators it was trained on (esrgan-slim and esrgan-thick)',
    );
    expect(screen.getByLabelText('What cnn-crops has seen')).toHaveTextContent('other generators may be missed');

    await user.selectOptions(select, 'svm-legacy');
    expect(screen.getByText('No measured metrics were published with this model.')).toBeInTheDocument();
    expect(screen.getByLabelText('What svm-legacy has seen')).toHaveTextContent('The training data is not described');
    await user.upload(picker(), imageFile());
    await screen.findByRole('heading', { name: /Likely a real photo/ });
    expect(seen[0]!.url.searchParams.get('model')).toBe('svm-legacy');
  });

  it('shows the full report for one picture', async () => {
    server.use(
      http.post('/api/v1/detect', () =>
        HttpResponse.json(
          aiResult({
            models: [
              { name: 'cnn-crops', version: '2.1.0', ai_probability: 0.95, weight: 0.7 },
              { name: 'svm-legacy', version: '1.0.0', ai_probability: 0.82, weight: 0.3 },
            ],
          }),
        ),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile('ai-portrait.png', 'image/png'));

    const heading = await screen.findByRole('heading', { name: 'Verdict: Likely AI-generated' });
    // focus moves in an effect after the heading renders: wait for it, do not race it
    await waitFor(() => expect(heading).toHaveFocus());
    expect(await screen.findByRole('img', { name: 'Your picture: ai-portrait.png' })).toHaveAttribute('src', expect.stringMatching(/^blob:/));

    const meter = screen.getByRole('meter', { name: 'AI probability' });
    expect(meter).toHaveAttribute('aria-valuenow', '91');
    expect(meter).toHaveAttribute('aria-valuetext', '91% probability of being AI-generated');
    expect(screen.getByText(/Threshold 50%; between 35% and 65% the answer is/)).toBeInTheDocument();
    expect(screen.getByText(/Strong provenance evidence of AI generation decided the verdict/)).toBeInTheDocument();

    const perModel = screen.getByRole('table');
    expect(within(perModel).getByRole('rowheader', { name: 'svm-legacy' }).closest('tr')).toHaveTextContent('82%');

    expect(screen.getByText('1024 × 768 px')).toBeInTheDocument();
    // A PNG: no JPEG quality, no word on compression.
    expect(screen.getByText('PNG')).toBeInTheDocument();
    expect(heading.parentElement).not.toHaveTextContent(/JPEG|compress/);
    expect(screen.queryByText(/quality about/)).not.toBeInTheDocument();
    expect(screen.getByText(/^123 ms/)).toBeInTheDocument();

    expect(screen.getByRole('status')).toHaveTextContent(
      'Result for ai-portrait.png: Likely AI-generated, 91% probability of being AI-generated.',
    );
  });

  it('lists the provenance evidence with what it means', async () => {
    const user = await renderReady();
    await user.upload(picker(), imageFile('ai-portrait.png', 'image/png'));
    const section = await screen.findByRole('region', { name: 'Provenance evidence' });
    const items = within(section).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('PNG text chunks');
    expect(items[0]).toHaveTextContent('Points to AI generation');
    expect(items[0]).toHaveTextContent('Strong evidence');
    expect(items[0]).toHaveTextContent('Automatic1111');
    expect(items[0]).toHaveTextContent('decides the verdict on its own');
    expect(items[1]).toHaveTextContent('EXIF metadata');
    expect(items[1]).toHaveTextContent('for information only');
  });

  it('says plainly when no provenance was found, and hides per-model results for one model', async () => {
    const user = await renderReady();
    await user.upload(picker(), imageFile('holiday.jpg'));
    await screen.findByRole('heading', { name: 'Verdict: Likely a real photo' });
    const section = screen.getByRole('region', { name: 'Provenance evidence' });
    expect(section).toHaveTextContent('absence proves nothing');
    expect(screen.queryByRole('region', { name: 'Per-model results' })).not.toBeInTheDocument();
  });

  it('says when the metadata and the pixels disagree, in the headline', async () => {
    // EXIF Software: Midjourney v6 (moderate) on pixels that look like a camera photo.
    const midjourney = {
      kind: 'exif',
      signal: 'ai_generated' as const,
      strength: 'moderate' as const,
      detail: "EXIF Software names an image generator: 'Midjourney v6'",
    };
    server.use(
      http.post('/api/v1/detect', () =>
        HttpResponse.json(
          realResult({
            evidence: [midjourney],
            decision: { ...realResult().decision, conflicting_evidence: true },
          }),
        ),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile('mj.jpg'));
    // The headline itself says the evidence conflicts, not only the text under it.
    const heading = await screen.findByRole('heading', { name: /^Verdict: Likely a real photo\s*,\s*conflicting evidence$/ });
    const box = heading.parentElement!;
    expect(box).toHaveTextContent(
      "Conflicting evidence: the pixels look like a camera photo, but the file's metadata names an image generator.",
    );
    expect(box).not.toHaveTextContent('found no strong sign of an image generator');
  });

  it('says it cannot judge a picture out of scope, and never calls it real', async () => {
    server.use(
      http.post('/api/v1/detect', () =>
        HttpResponse.json(
          realResult({
            verdict: 'out_of_scope',
            ai_probability: 0.08,
            image: { width: 1, height: 1, format: 'PNG' },
            decision: {
              ...realResult().decision,
              pixel_verdict: 'real',
              rule: 'out_of_scope_too_small',
              out_of_scope_reason: 'it is too small to judge: 1x1 pixels; at least 64x64 are needed',
              // Sent for any JPEG, but a picture out of scope has no verdict for it to qualify.
              compression: hardJpeg,
            },
          }),
        ),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile('dot.png', 'image/png'));
    const heading = await screen.findByRole('heading', { name: 'Verdict: Can’t judge this picture' });
    expect(heading.parentElement).toHaveTextContent(
      'Can’t judge this picture: it is too small to judge: 1x1 pixels; at least 64x64 are needed.',
    );
    expect(heading.parentElement).toHaveTextContent('The scope check found the picture too small to judge.');
    expect(screen.queryByText(/Likely a real photo/)).not.toBeInTheDocument();
    expect(heading.parentElement).toHaveTextContent('For the curious: the pixel model gave 8%');
    expect(screen.queryByRole('meter', { name: 'AI probability' })).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Result for dot.png: Can’t judge this picture: it is too small');
    expect(heading.parentElement).not.toHaveTextContent('re-saved as JPEG');
    expect(heading.parentElement).not.toHaveTextContent('The file is a JPEG');
  });

  it('calls a low score on a hard-compressed JPEG uncertain, and says why', async () => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.json(compressedResult())));
    const user = await renderReady();
    await user.upload(picker(), imageFile('forwarded.jpg'));
    const heading = await screen.findByRole('heading', { name: 'Verdict: Uncertain' });
    const box = heading.parentElement!;
    expect(box).toHaveTextContent(
      'This picture is a JPEG, and compression at about its quality hides most of the traces the detector looks for: its low score does not show that the picture is real, so the detector does not take a side.',
    );
    expect(box).not.toHaveTextContent('The score falls in the band');
    // The model's own figures, as a caution (bold, marked, and announced as one).
    const summary = within(box).getByText(/^The file is a JPEG saved at about quality 72\./);
    expect(summary).toHaveTextContent(
      'Caution: The file is a JPEG saved at about quality 72. On test pictures re-saved as JPEG at quality 75, this model found 5% of the AI-generated ones (63% before re-saving; 383 AI and 159 real test pictures): a low score here does not show that the picture is real.',
    );
    expect(summary).toHaveClass('verdict__compression', 'verdict__compression--caution');
    expect(box).toHaveTextContent(
      'The pixel score was low, but on pictures compressed about this much (JPEG or lossy WebP) the model misses most AI pictures, so a low score does not show the picture is real. The pixel model alone said: Likely a real photo.',
    );
    expect(screen.getByText('Format').nextSibling).toHaveTextContent('JPEG, quality about 72');
  });

  it('calls a low score on a lossy WebP uncertain, and says why', async () => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.json(lossyWebpResult())));
    const user = await renderReady();
    await user.upload(picker(), imageFile('shared.webp', 'image/webp'));
    const heading = await screen.findByRole('heading', { name: 'Verdict: Uncertain' });
    const box = heading.parentElement!;
    expect(box).toHaveTextContent(
      'This picture is a lossy WebP, and compression of that kind hides most of the traces the detector looks for: its low score does not show that the picture is real, so the detector does not take a side.',
    );
    expect(box).not.toHaveTextContent('The score falls in the band');
    expect(box).not.toHaveTextContent('This picture is a JPEG');
    const summary = within(box).getByText(/^The file is a lossy WebP \(the format records no quality\)\./);
    expect(summary).toHaveTextContent(
      'Caution: The file is a lossy WebP (the format records no quality). On test pictures re-saved as lossy WebP at quality 80, this model found 7% of the AI-generated ones (63% before re-saving; 383 AI and 159 real test pictures): a low score here does not show that the picture is real.',
    );
    expect(summary).toHaveClass('verdict__compression', 'verdict__compression--caution');
    expect(box).toHaveTextContent(
      'The pixel score was low, but on pictures compressed about this much (JPEG or lossy WebP) the model misses most AI pictures, so a low score does not show the picture is real. The pixel model alone said: Likely a real photo.',
    );
    expect(screen.getByText('Format').nextSibling).toHaveTextContent(/^WEBP, lossy$/);
    expect(screen.queryByText(/quality about/)).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Result for shared.webp: Uncertain');
  });

  it('says a lossless WebP is lossless, with no word on compression', async () => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.json(losslessWebpResult())));
    const user = await renderReady();
    await user.upload(picker(), imageFile('screenshot.webp', 'image/webp'));
    const heading = await screen.findByRole('heading', { name: 'Verdict: Likely a real photo' });
    const box = heading.parentElement!;
    expect(box).toHaveTextContent('The detector found no strong sign of an image generator.');
    expect(box).not.toHaveTextContent(/compress|re-saved|Caution|The file is/);
    expect(box.querySelector('.verdict__compression')).toBeNull();
    expect(screen.getByText('Format').nextSibling).toHaveTextContent(/^WEBP, lossless$/);
  });

  it('shows the compression figures without a caution when the model sees through the JPEG', async () => {
    server.use(
      http.post('/api/v1/detect', () =>
        HttpResponse.json(
          realResult({
            decision: { ...realResult().decision, compression: lightJpeg },
            image: { ...realResult().image, jpeg_quality: 94 },
          }),
        ),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile('camera.jpg'));
    const heading = await screen.findByRole('heading', { name: 'Verdict: Likely a real photo' });
    const box = heading.parentElement!;
    const summary = within(box).getByText(/^The file is a JPEG saved at about quality 94\./);
    expect(summary).toHaveTextContent('a low score still counts as evidence that the picture is real.');
    expect(summary).toHaveClass('verdict__compression');
    expect(summary).not.toHaveClass('verdict__compression--caution');
    expect(box).not.toHaveTextContent('Caution');
    expect(box).toHaveTextContent('The detector found no strong sign of an image generator.');
    expect(screen.getByText('Format').nextSibling).toHaveTextContent('JPEG, quality about 94');
  });

  it('shows "Uncertain" in plain words', async () => {
    server.use(
      http.post('/api/v1/detect', () =>
        HttpResponse.json(realResult({ verdict: 'uncertain', ai_probability: 0.5, decision: { ...realResult().decision, pixel_verdict: 'uncertain' } })),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    expect(await screen.findByRole('heading', { name: 'Verdict: Uncertain' })).toBeInTheDocument();
  });

  it('overlays the heatmap and lets the user switch it off and on', async () => {
    const user = await renderReady();
    await user.upload(picker(), imageFile('ai-portrait.png', 'image/png'));
    await screen.findByRole('heading', { name: /Likely AI-generated/ });
    expect(seen[0]!.url.searchParams.get('heatmap')).toBe('true');

    const heatmap = () => screen.queryByRole('img', { name: /^Heatmap/ });
    const toggle = screen.getByRole('checkbox', { name: 'Show heatmap' });
    expect(toggle).toBeChecked();
    expect(heatmap()).toHaveAttribute('src', expect.stringMatching(/^data:image\/png;base64,/));
    await user.click(toggle);
    expect(heatmap()).not.toBeInTheDocument();
    toggle.focus();
    await user.keyboard(' ');
    expect(heatmap()).toBeInTheDocument();
    // In words, with a colour scale, at an adjustable strength.
    expect(screen.getByText('The right side scored highest (83% likely AI-generated); the left side lowest (12%).')).toBeInTheDocument();
    expect(screen.getByText('Looks like a camera photo')).toBeInTheDocument();
    expect(screen.getByText('Looks AI-generated')).toBeInTheDocument();
    expect(heatmap()).toHaveStyle({ opacity: '0.75' });
    fireEvent.change(screen.getByRole('slider', { name: 'Strength' }), { target: { value: '100' } });
    expect(heatmap()).toHaveStyle({ opacity: '1' });
  });

  it('offers no heatmap toggle when the server sent none', async () => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.json(realResult({ heatmap: null }))));
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    await screen.findByRole('heading', { name: /Likely a real photo/ });
    expect(screen.queryByRole('checkbox', { name: 'Show heatmap' })).not.toBeInTheDocument();
  });

  it('refuses a non-image before uploading it', async () => {
    const user = userEvent.setup({ applyAccept: false });
    render(<App />);
    await screen.findByRole('combobox', { name: 'Model' });
    await user.upload(picker(), new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('That did not work for notes.txt');
    expect(alert).toHaveTextContent('This file is not a picture the detector can read');
    expect(seen).toHaveLength(0);
  });

  it("refuses a file over the server's size limit before uploading it", async () => {
    server.use(
      http.get('/api/v1/models', () =>
        HttpResponse.json({ ...modelsResponse, limits: { ...modelsResponse.limits, max_bytes: 5 * 1024 * 1024 } }),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), new File([new Uint8Array(5 * 1024 * 1024 + 1)], 'huge.jpg', { type: 'image/jpeg' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The file is too large. The limit is 5 MB.');
    expect(seen).toHaveLength(0);
  });

  it("shows the server's answer for a text file renamed .jpg", async () => {
    const user = await renderReady();
    await user.upload(picker(), imageFile('fake.jpg', 'image/jpeg', 'not an image, just text'));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('That did not work for fake.jpg');
    expect(alert).toHaveTextContent('This file is not a picture the detector can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF.');
    expect(alert).toHaveTextContent('HTTP 415');
    expect(within(alert).queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
  });

  it('explains a server that is not ready yet, and retries on request', async () => {
    let calls = 0;
    server.use(
      http.post('/api/v1/detect', () =>
        ++calls === 1
          ? HttpResponse.json({ detail: 'Models are loading', code: 'not_ready' }, { status: 503 })
          : HttpResponse.json(realResult()),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The detector is still starting up');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { name: /Likely a real photo/ })).toBeInTheDocument();
    expect(calls).toBe(2);
  });

  it.each([
    [413, 'too_many_pixels', 'too many pixels (the limit is 50 megapixels)'],
    [404, 'unknown_model', 'not available on the server'],
    [429, 'rate_limited', 'Too many requests'],
    [503, 'overloaded', 'busy right now'],
    [400, 'undecodable_image', 'damaged or incomplete'],
  ])('shows a plain message for HTTP %i %s', async (status, code, sentence) => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.json({ detail: 'x', code }, { status })));
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    expect(await screen.findByRole('alert')).toHaveTextContent(sentence);
  });

  it('says when the network is down', async () => {
    server.use(http.post('/api/v1/detect', () => HttpResponse.error()));
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot reach the detector. Check your connection');
  });

  it('stops waiting after the timeout rather than spinning forever', async () => {
    config.requestTimeoutMs = 100;
    server.use(
      http.post('/api/v1/detect', async () => {
        await delay('infinite');
        return HttpResponse.json(realResult());
      }),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    expect(screen.getByText(/Analysing photo.jpg/, { selector: 'p:not([role])' })).toBeInTheDocument();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No answer from the detector in time');
    expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });

  it('lets the user cancel a slow request', async () => {
    server.use(
      http.post('/api/v1/detect', async () => {
        await delay('infinite');
        return HttpResponse.json(realResult());
      }),
    );
    const user = await renderReady();
    await user.upload(picker(), imageFile());
    await user.click(await screen.findByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('status')).toHaveTextContent('Analysis cancelled.');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(picker()).toBeEnabled();
  });

  it('accepts a dropped picture', async () => {
    await renderReady();
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [imageFile('dropped.jpg')] } });
    expect(await screen.findByRole('heading', { name: /Likely a real photo/ })).toBeInTheDocument();
    expect(seen[0]!.fields).toEqual([['file', 'dropped.jpg']]);
  });

  it('accepts a picture pasted from the clipboard', async () => {
    await renderReady();
    const event = createEvent.paste(document);
    Object.defineProperty(event, 'clipboardData', { value: { files: [imageFile('pasted.png', 'image/png')] } });
    fireEvent(document, event);
    expect(await screen.findByRole('heading', { name: /Likely a real photo/ })).toBeInTheDocument();
    expect(seen[0]!.fields).toEqual([['file', 'pasted.png']]);
  });

  it('offers the camera on phones', async () => {
    await renderReady();
    const camera = screen.getByLabelText('Take a photo');
    expect(camera).toHaveAttribute('accept', 'image/*');
    expect(camera).toHaveAttribute('capture', 'environment');
    expect(picker()).toHaveAttribute('accept', 'image/*');
    expect(picker()).toHaveAttribute('multiple');
  });

  it('keeps working when the model list cannot be loaded, and can retry it', async () => {
    let calls = 0;
    server.use(
      http.get('/api/v1/models', () =>
        ++calls === 1
          ? HttpResponse.json({ detail: 'loading', code: 'not_ready' }, { status: 503 })
          : HttpResponse.json(modelsResponse),
      ),
    );
    const user = userEvent.setup();
    render(<App />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the models');
    expect(alert).toHaveTextContent('still starting up');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('combobox', { name: 'Model' })).toBeInTheDocument();
  });
});

describe('batch', () => {
  it('shows one row per file, and one bad file does not spoil the rest', async () => {
    const user = await renderReady();
    await user.upload(picker(), [
      imageFile('beach.jpg'),
      imageFile('renamed.jpg', 'image/jpeg', 'not an image'),
      imageFile('ai-city.png', 'image/png'),
    ]);
    const table = await screen.findByRole('table', { name: 'Verdict and AI probability per picture' });
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Results for 3 pictures' })).toHaveFocus());
    expect(seen[0]!.url.pathname).toBe('/api/v1/detect/batch');
    expect(seen[0]!.fields).toEqual([
      ['files', 'beach.jpg'],
      ['files', 'renamed.jpg'],
      ['files', 'ai-city.png'],
    ]);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent('beach.jpgLikely a real photo12%');
    expect(rows[1]).toHaveTextContent('renamed.jpgError: This file is not a picture the detector can read');
    // Decided by the PNG's generator parameters, not the pixels: the row says so.
    expect(rows[2]).toHaveTextContent('ai-city.pngLikely AI-generateddecided by the file’s metadata91%');
    expect(rows[0]).not.toHaveTextContent('metadata');
    expect(screen.getByText('2 analysed, 1 could not be analysed. Select a file name for its full report.')).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(/2 of 3 pictures analysed/);

    // Names sit on one line (cut with an ellipsis by CSS); a tap on a failed file shows it whole.
    expect(within(rows[0]!).getByText('beach.jpg')).toHaveClass('batch__filename');
    const name = within(rows[1]!).getByRole('button', { name: 'renamed.jpg (show the full name)' });
    expect(name).toHaveAttribute('title', 'renamed.jpg');
    await user.click(name);
    expect(name).toHaveAttribute('aria-expanded', 'true');
    expect(within(name).getByText('renamed.jpg')).toHaveClass('batch__filename--full');

    await user.click(within(rows[2]!).getByRole('button', { name: 'Details for ai-city.png' }));
    const detail = await screen.findByRole('heading', { name: 'Verdict: Likely AI-generated' });
    await waitFor(() => expect(detail).toHaveFocus());
  });

  it('marks a picture out of scope in the table with the reason, never as real', async () => {
    const dot = realResult({
      verdict: 'out_of_scope',
      decision: {
        ...realResult().decision,
        rule: 'out_of_scope_too_small',
        out_of_scope_reason: 'it is too small to judge: 1x1 pixels; at least 64x64 are needed',
      },
    });
    server.use(
      http.post('/api/v1/detect/batch', () =>
        HttpResponse.json({
          results: [
            { filename: 'dot.png', ok: true, result: dot },
            { filename: 'beach.jpg', ok: true, result: realResult() },
          ],
        }),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), [imageFile('dot.png', 'image/png'), imageFile('beach.jpg')]);
    const table = await screen.findByRole('table', { name: 'Verdict and AI probability per picture' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[0]).toHaveTextContent('Can’t judge this pictureit is too small to judge: 1x1 pixels');
    expect(rows[0]).not.toHaveTextContent('real photo');
    expect(rows[1]).toHaveTextContent('Likely a real photo');
  });

  it('marks a hard-compressed JPEG or lossy WebP in the table: uncertain, and why', async () => {
    server.use(
      http.post('/api/v1/detect/batch', () =>
        HttpResponse.json({
          results: [
            { filename: 'forwarded.jpg', ok: true, result: compressedResult() },
            { filename: 'beach.jpg', ok: true, result: realResult() },
            { filename: 'shared.webp', ok: true, result: lossyWebpResult() },
          ],
        }),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), [imageFile('forwarded.jpg'), imageFile('beach.jpg'), imageFile('shared.webp', 'image/webp')]);
    const table = await screen.findByRole('table', { name: 'Verdict and AI probability per picture' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[0]).toHaveTextContent('forwarded.jpgUncertainlossy compression hides what the detector looks for8%');
    expect(rows[0]).not.toHaveTextContent('real photo');
    expect(rows[1]).toHaveTextContent('beach.jpgLikely a real photo12%');
    expect(rows[1]).not.toHaveTextContent('compression');
    expect(rows[2]).toHaveTextContent('shared.webpUncertainlossy compression hides what the detector looks for8%');
    expect(rows[2]).not.toHaveTextContent('real photo');
  });

  it('does not upload files that fail the client checks, but still lists them', async () => {
    const user = userEvent.setup({ applyAccept: false });
    render(<App />);
    await screen.findByRole('combobox', { name: 'Model' });
    await user.upload(picker(), [imageFile('a.jpg'), new File(['x'], 'doc.pdf', { type: 'application/pdf' })]);
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[1]).toHaveTextContent('doc.pdfError: This file is not a picture');
    expect(seen[0]!.fields).toEqual([['files', 'a.jpg']]);
  });

  it('refuses more files than the server takes in one batch', async () => {
    server.use(
      http.get('/api/v1/models', () =>
        HttpResponse.json({ ...modelsResponse, limits: { ...modelsResponse.limits, max_batch_files: 2 } }),
      ),
    );
    const user = await renderReady();
    await user.upload(picker(), [imageFile('a.jpg'), imageFile('b.jpg'), imageFile('c.jpg')]);
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many files at once. Send at most 2 per batch.');
    expect(seen).toHaveLength(0);
  });

  it('reports a failed batch request as a whole (server down)', async () => {
    server.use(
      http.post('/api/v1/detect/batch', () => HttpResponse.json({ detail: 'busy', code: 'overloaded' }, { status: 503 })),
    );
    const user = await renderReady();
    await user.upload(picker(), [imageFile('a.jpg'), imageFile('b.jpg')]);
    expect(await screen.findByRole('alert')).toHaveTextContent('The detector is busy right now');
    await waitFor(() => expect(screen.queryByRole('table')).not.toBeInTheDocument());
  });
});
