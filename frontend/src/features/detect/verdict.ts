import type {
  CompressionFormat,
  DecisionRule,
  DetectionResult,
  Evidence,
  PixelVerdict,
  Signal,
  Strength,
  Verdict,
} from '../../api/types';

export const VERDICT_LABEL: Record<Verdict, string> = {
  ai_generated: 'Likely AI-generated',
  real: 'Likely a real photo',
  uncertain: 'Uncertain',
  out_of_scope: 'Can’t judge this picture',
};

export const VERDICT_EXPLANATION: Record<Verdict, string> = {
  ai_generated: 'The detector found more signs of an image generator than of a camera.',
  real: 'The detector found no strong sign of an image generator.',
  uncertain: 'The score falls in the band where the detector is often wrong, so it does not take a side.',
  out_of_scope:
    'The picture is outside what the pixel models were made for (camera photographs and generated imitations of them), so their score means little.',
};

export const RULE_EXPLANATION: Record<DecisionRule, string> = {
  pixel_model: "The verdict comes from the pixel model's score.",
  strong_ai_provenance:
    'Strong provenance evidence of AI generation decided the verdict, whatever the pixel model said.',
  strong_real_provenance:
    'Strong provenance evidence of a real capture decided the verdict, whatever the pixel model said.',
  moderate_ai_provenance: 'Moderate provenance evidence of AI generation tipped the verdict.',
  lossy_compression:
    'The pixel score was low, but on pictures compressed about this much (JPEG or lossy WebP) the model misses most AI pictures, so a low score does not show the picture is real.',
  out_of_scope_too_small: 'The scope check found the picture too small to judge.',
  out_of_scope_extreme_aspect_ratio: 'The scope check found a thin strip, not a picture.',
  out_of_scope_flat: 'The scope check found a flat or nearly flat picture.',
  out_of_scope_synthetic_graphic: 'The scope check found a drawing, chart, text or screenshot.',
  out_of_scope_smooth_gradient: 'The scope check found a smooth gradient with no detail.',
  out_of_scope_noise: 'The scope check found pure noise.',
};

const PIXELS_SAY: Record<PixelVerdict, string> = {
  real: 'the pixels look like a camera photo',
  uncertain: 'the pixel score is borderline',
  ai_generated: 'the pixels look AI-generated',
};

/** The end of every "uncertain because of compression" sentence. */
const LOW_SCORE_NOT_REAL =
  'its low score does not show that the picture is real, so the detector does not take a side.';

/**
 * Uncertain because the file is compressed too hard (rule lossy_compression), not for a
 * borderline score: named by its format when the server says which (a WebP records no quality).
 */
function compressionUncertain(format: CompressionFormat | undefined): string {
  switch (format) {
    case 'JPEG':
      return `This picture is a JPEG, and compression at about its quality hides most of the traces the detector looks for: ${LOW_SCORE_NOT_REAL}`;
    case 'WEBP':
      return `This picture is a lossy WebP, and compression of that kind hides most of the traces the detector looks for: ${LOW_SCORE_NOT_REAL}`;
    default:
      return `This picture was saved with lossy compression (JPEG or WebP), which at about this strength hides most of the traces the detector looks for: ${LOW_SCORE_NOT_REAL}`;
  }
}

/**
 * The sentence under the verdict. When the file's metadata (moderate or strong evidence)
 * disagrees with the pixels, it says so first, whichever way the verdict went.
 */
export function verdictExplanation(result: DetectionResult): string {
  const { decision, evidence } = result;
  if (result.verdict === 'out_of_scope') {
    const reason = decision.out_of_scope_reason ?? 'it is outside what the pixel models were made for';
    return `Can’t judge this picture: ${reason}. The pixel models were made for camera photographs and generated imitations of them.`;
  }
  if (!decision.conflicting_evidence) {
    if (result.verdict === 'uncertain' && decision.rule === 'lossy_compression') {
      return compressionUncertain(decision.compression?.format);
    }
    return VERDICT_EXPLANATION[result.verdict];
  }
  const counted = evidence.filter((e) => e.strength !== 'weak');
  const pixels = PIXELS_SAY[decision.pixel_verdict];
  if (decision.pixel_verdict !== 'ai_generated' && counted.some((e) => e.signal === 'ai_generated')) {
    return `Conflicting evidence: ${pixels}, but the file's metadata names an image generator.`;
  }
  return `Conflicting evidence: ${pixels}, but the file's metadata points to a camera.`;
}

/** A short mark for the batch table: how the verdict was reached when not from pixels alone. */
export function verdictNote(result: DetectionResult): string | null {
  if (result.verdict === 'out_of_scope') return result.decision.out_of_scope_reason ?? null;
  if (result.decision.rule.endsWith('_provenance')) {
    return result.decision.conflicting_evidence
      ? 'decided by the file’s metadata, against the pixels'
      : 'decided by the file’s metadata';
  }
  if (result.decision.conflicting_evidence) return 'the file’s metadata disagrees';
  if (result.decision.rule === 'lossy_compression') return 'lossy compression hides what the detector looks for';
  return null;
}

export function ruleExplanation(rule: string): string {
  if (rule.startsWith('out_of_scope_') && !(rule in RULE_EXPLANATION)) {
    return 'The scope check found a picture the pixel models cannot judge.';
  }
  return RULE_EXPLANATION[rule as DecisionRule] ?? `Decided by the rule "${rule}".`;
}

const KIND_LABEL: Record<string, string> = {
  c2pa: 'Content Credentials (C2PA)',
  xmp: 'XMP metadata (IPTC digital source type)',
  png_text: 'PNG text chunks',
  exif: 'EXIF metadata',
  watermark: 'Invisible watermark',
};

export function evidenceKindLabel(kind: string): string {
  return KIND_LABEL[kind] ?? kind.replace(/_/g, ' ');
}

export const SIGNAL_LABEL: Record<Signal, string> = {
  ai_generated: 'Points to AI generation',
  real: 'Points to a real capture',
  neutral: 'Neutral',
};

export const STRENGTH_LABEL: Record<Strength, string> = {
  strong: 'Strong',
  moderate: 'Moderate',
  weak: 'Weak',
};

export const STRENGTH_MEANING: Record<Strength, string> = {
  strong: 'Strong evidence decides the verdict on its own (it is hard to add by accident, though it can be forged).',
  moderate: 'Moderate evidence can tip the verdict but does not prove anything alone.',
  weak: 'Weak evidence is shown for information only: metadata is easy to strip or edit.',
};

export function evidenceMeaning(e: Evidence): string {
  return STRENGTH_MEANING[e.strength];
}
