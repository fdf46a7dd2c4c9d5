/**
 * Types of the backend's HTTP API (`/openapi.json`), written by hand to match
 * `aidetect/results.py` and the routes in `backend/`. Keep them in sync: `npm run gen:types`
 * writes the generated schema to `src/api/openapi.gen.ts` from a running backend, so a
 * schema change shows up as a diff to compare against this file.
 */

export type Verdict = 'ai_generated' | 'real' | 'uncertain' | 'out_of_scope';
/** What the pixel model alone says: it always scores, even a picture out of scope. */
export type PixelVerdict = 'ai_generated' | 'real' | 'uncertain';
export type Signal = 'ai_generated' | 'real' | 'neutral';
export type Strength = 'strong' | 'moderate' | 'weak';
export type DecisionRule =
  | 'pixel_model'
  | 'strong_ai_provenance'
  | 'strong_real_provenance'
  | 'moderate_ai_provenance'
  | 'lossy_compression'
  | 'out_of_scope_too_small'
  | 'out_of_scope_extreme_aspect_ratio'
  | 'out_of_scope_flat'
  | 'out_of_scope_synthetic_graphic'
  | 'out_of_scope_smooth_gradient'
  | 'out_of_scope_noise';

/** One provenance finding, graded and explained. */
export interface Evidence {
  /** c2pa, xmp, png_text, exif, watermark, ... */
  kind: string;
  signal: Signal;
  strength: Strength;
  /** Human-readable explanation of the finding. */
  detail: string;
}

export interface ModelRef {
  name: string;
  version: string;
}

export interface ModelScore {
  name: string;
  version: string;
  ai_probability: number;
  weight: number;
}

export interface ImageInfo {
  width: number;
  height: number;
  format: string;
  /** A JPEG's quality (1-100, IJG scale), estimated from its quantisation tables; null for other formats. */
  jpeg_quality?: number | null;
  /** For a WebP: true when lossy, false when lossless; null for other formats. */
  webp_lossy?: boolean | null;
}

/** The lossy formats the compression check knows. */
export type CompressionFormat = 'JPEG' | 'WEBP';

/** What lossy compression (JPEG, lossy WebP) does to the model's answers, from its robustness measurements. */
export interface Compression {
  /** The upload's lossy format. */
  format: CompressionFormat;
  /** A JPEG's estimated quality; null for a WebP, which records none. */
  jpeg_quality?: number | null;
  /**
   * The quality the model's test pictures were re-saved at in that format: for a JPEG the
   * nearest measured, for a WebP the mildest (null: never measured).
   */
  measured_quality?: number | null;
  /** Share of AI-generated test pictures found at that quality. */
  detection_rate?: number | null;
  /** The same share on the test pictures before re-saving. */
  uncompressed_detection_rate?: number | null;
  roc_auc?: number | null;
  /**
   * False when compression at about this quality cost the model more than half of its
   * detections: a low score then does not show the picture is real (rule lossy_compression).
   */
  real_supported: boolean;
  /** The same, in words for people. */
  summary: string;
}

export interface Decision {
  threshold: number;
  uncertain_band: [number, number];
  pixel_verdict: PixelVerdict;
  /** Which combination rule decided the final verdict (see DecisionRule; open for new rules). */
  rule: DecisionRule | (string & {});
  /** Moderate or strong provenance evidence points the other way from the pixel model. */
  conflicting_evidence?: boolean;
  /** Why no pixel model can judge the picture, in words (null when it can). */
  out_of_scope_reason?: string | null;
  /** For a JPEG or lossy WebP upload: what compression about this hard does to the model (null for lossless formats). */
  compression?: Compression | null;
}

export interface DetectionResult {
  verdict: Verdict;
  /** P(image is AI-generated), 0..1. */
  ai_probability: number;
  model: ModelRef;
  models: ModelScore[];
  evidence: Evidence[];
  decision: Decision;
  image: ImageInfo;
  elapsed_ms: number;
  /** PNG data URL of per-region scores, when requested with heatmap=true. */
  heatmap?: string | null;
  /** Which part of the picture scored highest and lowest, in words (with the heatmap). */
  heatmap_summary?: string | null;
}

export interface ErrorBody {
  detail: string;
  code: string;
}

/** FastAPI's own validation errors (422) carry a list instead of a string. */
export interface ValidationErrorItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export interface BatchItem {
  filename: string | null;
  ok: boolean;
  result: DetectionResult | null;
  error: ErrorBody | null;
}

export interface BatchResponse {
  results: BatchItem[];
}

/** Headline metrics; the server passes the metadata through, so anything may appear. */
export interface ModelMetrics {
  accuracy?: number;
  roc_auc?: number;
  average_precision?: number;
  f1?: number;
  [name: string]: unknown;
}

export interface TrainingData {
  generators?: string[];
  counts?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A generator family the model was trained on. */
export interface TrainedFamily {
  family: string;
  /** super-resolution, autoencoder, text-to-image, gan, ... */
  kind: string;
  images: number;
}

/** A generator family tested as held out (never seen in training), with its test set. */
export interface HeldOutFamily {
  family: string;
  kind: string;
  test_set: string;
  n: number;
  roc_auc?: number | null;
  detection_rate?: number | null;
}

/** Robustness variants the training code measures; open for new ones. */
export type RobustnessVariant =
  | 'original'
  | 'jpeg95'
  | 'jpeg90'
  | 'jpeg75'
  | 'jpeg50'
  | 'webp80'
  | 'downscale50'
  | 'centrecrop'
  | 'screenshot';

/** How the model did on its test pictures passed on one way (both classes alike), at its threshold. */
export interface RobustnessFigure {
  variant: RobustnessVariant | (string & {});
  /** The quality the copies were re-saved at (JPEG variants only). */
  jpeg_quality?: number | null;
  /** The same for lossy WebP variants (webp80, ...). */
  webp_quality?: number | null;
  test_set: string;
  n_real: number;
  n_ai: number;
  roc_auc?: number | null;
  /** Share of the AI-generated copies called AI-generated. */
  detection_rate?: number | null;
  /** Share of the real copies called AI-generated. */
  false_positive_rate?: number | null;
}

/** What the model has and has not seen (metadata `scope`); null: not described. */
export interface ModelScope {
  trained_on?: TrainedFamily[];
  held_out?: HeldOutFamily[];
  /** Its test pictures re-saved as JPEG or WebP, downscaled, cropped, screenshotted. */
  robustness?: RobustnessFigure[];
  note?: string;
}

export interface EnsembleMember {
  name: string;
  weight: number;
}

export interface ModelInfo {
  name: string;
  architecture: string;
  version: string;
  description: string;
  default: boolean;
  /** How pictures are fed to the model; null for ensembles (their members decide). */
  input: { policy: 'resize' | 'crops' | (string & {}); size: number } | null;
  threshold: number;
  uncertain_band: [number, number];
  metrics: ModelMetrics;
  /** How many test images the metrics were measured on. */
  metrics_n?: number | null;
  training_data: TrainingData | null;
  scope?: ModelScope | null;
  members?: EnsembleMember[] | null;
}

export interface Limits {
  max_bytes: number;
  max_pixels: number;
  max_batch_files: number;
  accepted_types: string[];
}

export interface ModelsResponse {
  default_model: string | null;
  models: ModelInfo[];
  limits: Limits;
}

export interface HealthResponse {
  status: 'ok';
}

export interface ReadyResponse {
  status: 'ready';
  models: string[];
}
