"""What a run sets up before it measures, all labelled with the run id and removed after
it: the run's context and scratch directory, host processes, containers, the tools
images, the places file I/O runs in (native directory, bind mount, volume, container
layer, tmpfs), and page-cache drops for cold variants."""
