import path from 'node:path';

/**
 * Where a plan comes from, named the same in every process: a routes file made absolute, a
 * store's URL (etcd://…) as it is (path.resolve would glue the working directory to it).
 */
export function planLocation(file: string): string {
  return /^[a-z]+:\/\//.test(file) ? file : path.resolve(file);
}
