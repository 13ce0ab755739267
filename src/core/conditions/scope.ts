/** The types a prepared condition runs with: the predicate itself and the scope it reads time and segments from. */
import type { Attributes } from "../types";

/** What a prepared condition may ask beyond the attributes: the clock and other segments. */
export interface EvalScope {
  /** Current time in epoch milliseconds (relative-time operators measure from it). */
  now: number;
  /** Whether the visitor is in the named segment (answers `{ "$segment": id }`). */
  segment(id: string): boolean;
}

/** A condition prepared once into closures; call it per visitor. */
export type Predicate = (attrs: Attributes, scope: EvalScope) => boolean;

/** A prepared test on any value (attributes, or an array element inside $elemMatch). */
export type Test = (obj: unknown, scope: EvalScope) => boolean;

/** A prepared test on one attribute value. */
export type Matcher = (value: unknown, scope: EvalScope) => boolean;

/** Tests that never or always pass, shared so preparing allocates nothing for them. */
export const never = (): boolean => false;
export const always = (): boolean => true;
