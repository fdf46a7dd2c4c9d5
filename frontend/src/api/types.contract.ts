/**
 * Compile-time check that the hand-written types in ./types.ts still match the backend's
 * OpenAPI schema (./openapi.gen.ts, regenerated with `npm run gen:types`). `npm run
 * typecheck` fails here when a field or an enum value appears or disappears on one side.
 * Optionality is not compared: the schema marks fields with defaults as optional, while the
 * server always sends them.
 */
import type { components } from './openapi.gen';
import type * as T from './types';

type S = components['schemas'];
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<V extends true> = V;
type SameKeys<A, B> = Equal<keyof A, keyof B>;

export type ContractChecks = [
  Expect<SameKeys<T.DetectionResult, S['DetectionResult']>>,
  Expect<SameKeys<T.Evidence, S['Evidence']>>,
  Expect<SameKeys<T.Decision, S['Decision']>>,
  Expect<SameKeys<T.ImageInfo, S['ImageInfo']>>,
  Expect<SameKeys<T.ModelRef, S['ModelRef']>>,
  Expect<SameKeys<T.ModelScore, S['ModelScore']>>,
  Expect<SameKeys<T.ErrorBody, S['ErrorBody']>>,
  Expect<SameKeys<T.BatchItem, S['BatchItem']>>,
  Expect<SameKeys<T.BatchResponse, S['BatchResponse']>>,
  Expect<SameKeys<T.ModelInfo, S['ModelInfo']>>,
  Expect<SameKeys<T.Limits, S['Limits']>>,
  Expect<SameKeys<T.ModelsResponse, S['ModelsResponse']>>,
  Expect<SameKeys<T.EnsembleMember, S['MemberInfo']>>,
  Expect<SameKeys<NonNullable<T.ModelInfo['input']>, S['InputInfo']>>,
  Expect<SameKeys<T.ModelScope, S['ModelScope']>>,
  Expect<SameKeys<T.TrainedFamily, S['TrainedFamily']>>,
  Expect<SameKeys<T.HeldOutFamily, S['HeldOutFamily']>>,
  Expect<SameKeys<T.RobustnessFigure, S['RobustnessFigure']>>,
  Expect<SameKeys<T.Compression, S['Compression']>>,
  Expect<Equal<T.Verdict, S['DetectionResult']['verdict']>>,
  Expect<Equal<T.PixelVerdict, S['Decision']['pixel_verdict']>>,
  Expect<Equal<T.Signal, S['Evidence']['signal']>>,
  Expect<Equal<T.Strength, S['Evidence']['strength']>>,
  Expect<Equal<T.CompressionFormat, S['Compression']['format']>>,
  Expect<Equal<T.ModelsResponse['default_model'], S['ModelsResponse']['default_model']>>,
];
