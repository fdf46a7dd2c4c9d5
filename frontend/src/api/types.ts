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

/** What the model has and has not seen (metadata `scope`); null: not described. */
export interface ModelScope {
  trained_on?: TrainedFamily[];
  held_out?: HeldOutFamily[];
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
