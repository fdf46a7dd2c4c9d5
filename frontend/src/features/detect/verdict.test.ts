import { describe, expect, it } from 'vitest';
import type { Compression } from '../../api/types';
import { aiResult, compressedResult, hardJpeg, lightJpeg, lossyWebpResult, realResult } from '../../test/fixtures';
import { ruleExplanation, verdictExplanation, verdictNote } from './verdict';

describe('verdict wording', () => {
  it('explains an uncertain verdict on a hard-compressed JPEG by the compression, not the band', () => {
    const text = verdictExplanation(compressedResult());
    expect(text).toBe(
      'This picture is a JPEG, and compression at about its quality hides most of the traces the detector looks for: its low score does not show that the picture is real, so the detector does not take a side.',
    );
    expect(ruleExplanation('lossy_compression')).toBe(
      'The pixel score was low, but on pictures compressed about this much (JPEG or lossy WebP) the model misses most AI pictures, so a low score does not show the picture is real.',
    );
  });

  it('names a lossy WebP as such, and falls back to both formats when the server does not say which', () => {
    expect(verdictExplanation(lossyWebpResult())).toBe(
      'This picture is a lossy WebP, and compression of that kind hides most of the traces the detector looks for: its low score does not show that the picture is real, so the detector does not take a side.',
    );
    const unnamed = compressedResult({
      decision: { ...compressedResult().decision, compression: null },
    });
    expect(verdictExplanation(unnamed)).toBe(
      'This picture was saved with lossy compression (JPEG or WebP), which at about this strength hides most of the traces the detector looks for: its low score does not show that the picture is real, so the detector does not take a side.',
    );
    // A server that predates the format field: its compression is still read as lossy, named by neither.
    const older = { ...hardJpeg, format: undefined } as unknown as Compression;
    const noFormat = compressedResult({ decision: { ...compressedResult().decision, compression: older } });
    expect(verdictExplanation(noFormat)).toMatch(/^This picture was saved with lossy compression \(JPEG or WebP\)/);
  });

  it('keeps the band explanation for a borderline score', () => {
    const borderline = realResult({
      verdict: 'uncertain',
      decision: { ...realResult().decision, pixel_verdict: 'uncertain', compression: lightJpeg },
    });
    expect(verdictExplanation(borderline)).toBe(
      'The score falls in the band where the detector is often wrong, so it does not take a side.',
    );
    expect(verdictNote(borderline)).toBeNull();
  });

  it('marks a hard-compressed JPEG or lossy WebP in the batch table, and leaves plain verdicts unmarked', () => {
    expect(verdictNote(compressedResult())).toBe('lossy compression hides what the detector looks for');
    expect(verdictNote(lossyWebpResult())).toBe('lossy compression hides what the detector looks for');
    expect(verdictNote(realResult())).toBeNull();
    expect(verdictNote(realResult({ decision: { ...realResult().decision, compression: lightJpeg } }))).toBeNull();
    // Provenance that then decided the verdict names the metadata, not the compression.
    expect(verdictNote(aiResult())).toBe('decided by the file’s metadata');
  });
});
