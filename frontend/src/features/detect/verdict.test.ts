import { describe, expect, it } from 'vitest';
import { aiResult, compressedResult, lightJpeg, realResult } from '../../test/fixtures';
import { ruleExplanation, verdictExplanation, verdictNote } from './verdict';

describe('verdict wording', () => {
  it('explains an uncertain verdict on a hard-compressed JPEG by the compression, not the band', () => {
    const text = verdictExplanation(compressedResult());
    expect(text).toBe(
      'This picture is a JPEG, and compression at about its quality hides most of the traces the detector looks for: its low score does not show that the picture is real, so the detector does not take a side.',
    );
    expect(ruleExplanation('jpeg_compression')).toBe(
      'The pixel score was low, but on JPEGs compressed about this much the model misses most AI pictures, so a low score does not show the picture is real.',
    );
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

  it('marks a hard-compressed JPEG in the batch table, and leaves plain verdicts unmarked', () => {
    expect(verdictNote(compressedResult())).toBe('JPEG compression hides what the detector looks for');
    expect(verdictNote(realResult())).toBeNull();
    expect(verdictNote(realResult({ decision: { ...realResult().decision, compression: lightJpeg } }))).toBeNull();
    // Provenance that then decided the verdict names the metadata, not the compression.
    expect(verdictNote(aiResult())).toBe('decided by the file’s metadata');
  });
});
