// Types for image-environment.js, which stays plain JavaScript: it runs before Node is known to strip types.
export declare const IMAGE_ALLOCATOR_ENVIRONMENT: { readonly MALLOC_ARENA_MAX: string };
export declare function runAgainWithImageAllocator(): void;
