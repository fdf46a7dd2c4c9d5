import type { Compression, DetectionResult, ModelsResponse, RobustnessFigure } from '../api/types';

/** A 1x1 transparent PNG as a data URL, standing in for the server's heatmap. */
export const HEATMAP =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** One robustness row of the fixture model, on 383 AI and 159 real test pictures. */
function robust(variant: string, figures: Partial<RobustnessFigure>): RobustnessFigure {
  return { variant, test_set: 'corpus-v2 test split', n_real: 159, n_ai: 383, ...figures };
}

export const modelsResponse: ModelsResponse = {
  default_model: 'cnn-crops',
  models: [
    {
      name: 'cnn-crops',
      architecture: 'resnet50',
      version: '2.1.0',
      description: 'Residual network over native-resolution crops.',
      default: true,
      input: { policy: 'crops', size: 224 },
      threshold: 0.5,
      uncertain_band: [0.35, 0.65],
      metrics: { accuracy: 0.931, roc_auc: 0.975, average_precision: 0.968, f1: 0.928 },
      metrics_n: 10,
      training_data: { counts: { per_generator: { 'esrgan-slim-x2': 500, real: 500 } } },
      scope: {
        trained_on: [
          { family: 'esrgan-slim', kind: 'super-resolution', images: 500 },
          { family: 'esrgan-thick', kind: 'super-resolution', images: 480 },
        ],
        held_out: [
          {
            family: 'esrgan-medium',
            kind: 'super-resolution',
            test_set: 'leave-one-family-out: test reals and esrgan-medium test fakes (111 real / 32 AI)',
            n: 143,
            roc_auc: 0.9507,
            detection_rate: 0.6875,
          },
        ],
        robustness: [
          robust('original', { roc_auc: 0.93, detection_rate: 0.63, false_positive_rate: 0.04 }),
          robust('jpeg95', { jpeg_quality: 95, roc_auc: 0.88, detection_rate: 0.41, false_positive_rate: 0.03 }),
          robust('jpeg75', { jpeg_quality: 75, roc_auc: 0.61, detection_rate: 0.05, false_positive_rate: 0.01 }),
          robust('webp80', { webp_quality: 80, roc_auc: 0.64, detection_rate: 0.07, false_positive_rate: 0.01 }),
          robust('downscale50', { roc_auc: 0.7, detection_rate: 0.12, false_positive_rate: 0.02 }),
          robust('centrecrop', { roc_auc: null, detection_rate: null, false_positive_rate: null }),
          robust('screenshot', { roc_auc: 0.55, detection_rate: 0.02, false_positive_rate: 0.01 }),
        ],
        note: 'It has not been tested on any text-to-image generator.',
      },
    },
    {
      name: 'svm-legacy',
      architecture: 'svm',
      version: '1.0.0',
      description: '',
      default: false,
      input: { policy: 'resize', size: 32 },
      threshold: 0.6,
      uncertain_band: [0.4, 0.7],
      metrics: {},
      training_data: null,
    },
  ],
  limits: {
    max_bytes: 20 * 1024 * 1024,
    max_pixels: 50_000_000,
    max_batch_files: 32,
    accepted_types: ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/tiff'],
  },
};

export function aiResult(overrides: Partial<DetectionResult> = {}): DetectionResult {
  return {
    verdict: 'ai_generated',
    ai_probability: 0.91,
    model: { name: 'cnn-crops', version: '2.1.0' },
    models: [{ name: 'cnn-crops', version: '2.1.0', ai_probability: 0.91, weight: 1 }],
    evidence: [
      {
        kind: 'png_text',
        signal: 'ai_generated',
        strength: 'strong',
        detail: 'PNG "parameters" chunk written by Automatic1111 (Steps: 20, Sampler: Euler a).',
      },
      { kind: 'exif', signal: 'neutral', strength: 'weak', detail: 'No camera make or model in EXIF.' },
    ],
    decision: { threshold: 0.5, uncertain_band: [0.35, 0.65], pixel_verdict: 'ai_generated', rule: 'strong_ai_provenance' },
    image: { width: 1024, height: 768, format: 'PNG' },
    elapsed_ms: 123.4,
    heatmap: null,
    ...overrides,
  };
}

export function realResult(overrides: Partial<DetectionResult> = {}): DetectionResult {
  return {
    verdict: 'real',
    ai_probability: 0.12,
    model: { name: 'cnn-crops', version: '2.1.0' },
    models: [{ name: 'cnn-crops', version: '2.1.0', ai_probability: 0.12, weight: 1 }],
    evidence: [],
    decision: { threshold: 0.5, uncertain_band: [0.35, 0.65], pixel_verdict: 'real', rule: 'pixel_model' },
    image: { width: 640, height: 427, format: 'JPEG' },
    elapsed_ms: 87,
    heatmap: null,
    ...overrides,
  };
}

export function imageFile(name = 'photo.jpg', type = 'image/jpeg', content = 'jpeg bytes'): File {
  return new File([content], name, { type });
}

/** What the server says about a JPEG at quality 72 for a model that loses most detections at 75. */
export const hardJpeg: Compression = {
  format: 'JPEG',
  jpeg_quality: 72,
  measured_quality: 75,
  detection_rate: 0.05,
  uncompressed_detection_rate: 0.63,
  roc_auc: 0.61,
  real_supported: false,
  summary:
    'The file is a JPEG saved at about quality 72. On test pictures re-saved as JPEG at quality 75, this model found 5% of the AI-generated ones (63% before re-saving; 383 AI and 159 real test pictures): a low score here does not show that the picture is real.',
};

/** The same for a JPEG at quality 94, which the model sees through. */
export const lightJpeg: Compression = {
  format: 'JPEG',
  jpeg_quality: 94,
  measured_quality: 95,
  detection_rate: 0.41,
  uncompressed_detection_rate: 0.63,
  roc_auc: 0.88,
  real_supported: true,
  summary:
    'The file is a JPEG saved at about quality 94. On test pictures re-saved as JPEG at quality 95, this model found 41% of the AI-generated ones (63% before re-saving; 383 AI and 159 real test pictures): a low score still counts as evidence that the picture is real.',
};

/** A low score on a hard-compressed JPEG: uncertain, not real (rule lossy_compression). */
export function compressedResult(overrides: Partial<DetectionResult> = {}): DetectionResult {
  const base = realResult();
  return {
    ...base,
    verdict: 'uncertain',
    ai_probability: 0.08,
    models: [{ name: 'cnn-crops', version: '2.1.0', ai_probability: 0.08, weight: 1 }],
    decision: { ...base.decision, rule: 'lossy_compression', compression: hardJpeg },
    image: { ...base.image, jpeg_quality: 72 },
    ...overrides,
  };
}

/** What the server says about a lossy WebP (no quality recorded) for a model that loses most detections at WebP 80. */
export const lossyWebp: Compression = {
  format: 'WEBP',
  jpeg_quality: null,
  measured_quality: 80,
  detection_rate: 0.07,
  uncompressed_detection_rate: 0.63,
  roc_auc: 0.64,
  real_supported: false,
  summary:
    'The file is a lossy WebP (the format records no quality). On test pictures re-saved as lossy WebP at quality 80, this model found 7% of the AI-generated ones (63% before re-saving; 383 AI and 159 real test pictures): a low score here does not show that the picture is real.',
};

/** A low score on a lossy WebP: uncertain, not real (rule lossy_compression). */
export function lossyWebpResult(overrides: Partial<DetectionResult> = {}): DetectionResult {
  const base = compressedResult();
  return {
    ...base,
    decision: { ...base.decision, compression: lossyWebp },
    image: { width: 640, height: 427, format: 'WEBP', jpeg_quality: null, webp_lossy: true },
    ...overrides,
  };
}

/** A low score on a lossless WebP: no compression to speak of, so the pixel verdict stands. */
export function losslessWebpResult(overrides: Partial<DetectionResult> = {}): DetectionResult {
  const base = realResult();
  return {
    ...base,
    decision: { ...base.decision, compression: null },
    image: { width: 640, height: 427, format: 'WEBP', jpeg_quality: null, webp_lossy: false },
    ...overrides,
  };
}
