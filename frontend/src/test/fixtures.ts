import type { DetectionResult, ModelsResponse } from '../api/types';

/** A 1x1 transparent PNG as a data URL, standing in for the server's heatmap. */
export const HEATMAP =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

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
