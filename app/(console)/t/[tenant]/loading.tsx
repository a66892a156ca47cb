import { PageSkeleton } from "@/components/ui/page-skeleton";

// Lives below the tenant layout, not at the group root: the membership check must finish before streaming
// starts, or a non-member would get the 404 page with status 200.
export default function Loading() {
  return <PageSkeleton />;
}
