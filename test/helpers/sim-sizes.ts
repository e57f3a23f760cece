/** Memory sizes the integration tests give services on small simulated hosts, shared where several tests run one. */

/** Flink on a 2-3 GiB simulated host: each set (JobManager, TaskManager) is one Flink 1.20 accepts */
export const FLINK_SMALL = {
  flink_jobmanager_memory_process_size: '640m',
  flink_jobmanager_memory_heap_size: '320m',
  flink_jobmanager_memory_jvm_metaspace_size: '128m',
  flink_jobmanager_memory_off_heap_size: '64m',
  flink_taskmanager_memory_process_size: '768m',
  flink_taskmanager_memory_framework_heap_size: '64m',
  flink_taskmanager_memory_managed_size: '64m',
  flink_taskmanager_memory_jvm_metaspace_size: '128m',
};
