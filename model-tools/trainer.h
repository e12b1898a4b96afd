/* The training loop shared by `cnn train` and `cnn compare`: epochs of
 * shuffled, augmented mini-batches, a held-out validation split whose
 * best weights are kept, informational test scores, checkpoints after
 * every epoch and on Ctrl-C, a CSV log and a plot. */
#ifndef TOOL_TRAINER_H
#define TOOL_TRAINER_H

#include <stdio.h>

#include "augment.h"
#include "checkpoint.h"
#include "tool.h"

G_BEGIN_DECLS

typedef enum
{
  LR_CONSTANT,
  LR_STEP,                      /* × gamma every `every` epochs */
  LR_COSINE,                    /* ½(1 + cos(π·epoch/epochs)) */
} LrScheduleKind;

typedef struct
{
  LrScheduleKind kind;
  guint every;
  gdouble gamma;
} LrSchedule;

/* Everything that decides what a run computes.  Each field has a text
 * form under a key (train_setting_table): the command line sets them
 * through it and checkpoints store them with it, so a resumed run reads
 * back exactly what the first run used. */
typedef struct
{
  gchar *architecture;
  CnnShape input;               /* all zero: take it from the data */
  guint epochs;
  guint batch;
  CnnOptimizerSettings optimizer;
  LrSchedule schedule;
  guint64 seed;
  guint threads;
  gdouble validation;           /* fraction held out from the end */
  guint limit;                  /* first N training images; 0 = all */
  AugmentSettings augment;
  gchar *preprocess;
  gchar *labels;                /* JSON array of names; NULL = "0".."n-1" */
} TrainSettings;

/* One setting: its key (checkpoints, metadata), its command-line option
 * ("--batch"; NULL: none) with its short name, argument and help,
 * and how its text maps to its field: a number of a range at an offset
 * in TrainSettings, or a pair of functions. */
typedef enum
{
  SETTING_UINT,
  SETTING_UINT64,
  SETTING_DOUBLE,
  SETTING_CUSTOM,
} TrainSettingKind;

typedef struct
{
  const gchar *key;
  const gchar *flag;
  gchar short_name;
  const gchar *arg, *help;
  TrainSettingKind kind;
  gsize offset;
  guint64 umin, umax;
  gdouble dmin, dmax;
  gboolean (*set) (TrainSettings * s, const gchar * value, GError ** error);
  gchar *(*get) (const TrainSettings * s);
} TrainSetting;

#define TRAIN_N_SETTINGS 20

/* Every setting, in the order they must be applied ("optimizer" resets
 * its rates): the one table train, compare and checkpoints read. */
extern const TrainSetting train_setting_table[TRAIN_N_SETTINGS];
const TrainSetting *train_setting_find (const gchar * key);

/* A subcommand's use of a setting: its key, and its own help text (NULL:
 * the table's), for the entries it offers. */
typedef struct
{
  const gchar *key;
  const gchar *help;
} TrainSettingUse;

/* Option entries (g_free; NULL-terminated) for the settings in @uses
 * (NULL: every setting with an option), each storing its text in
 * @values[its index in the table] (TRAIN_N_SETTINGS of them). */
GOptionEntry *train_setting_entries (const TrainSettingUse * uses,
    gchar ** values);
/* Sets each setting whose @values entry is not NULL, in table order. */
gboolean train_settings_apply (TrainSettings * s, gchar ** values,
    GError ** error);

void train_settings_init (TrainSettings * s);
void train_settings_clear (TrainSettings * s);
void train_settings_copy (TrainSettings * dst, const TrainSettings * src);
/* The option that sets @key ("--batch"), or the key itself. */
const gchar *train_setting_option (const gchar * key);
gboolean train_settings_set (TrainSettings * s, const gchar * key,
    const gchar * value, GError ** error);
/* Canonical text of @key's value; NULL when it has none (labels). */
gchar *train_settings_get (const TrainSettings * s, const gchar * key);
gdouble train_settings_rate (const TrainSettings * s, guint epoch);
void train_settings_print (const TrainSettings * s, FILE * out);

/* One line of the log. */
typedef struct
{
  guint epoch;                  /* 1-based */
  gdouble train_loss, train_accuracy;
  gdouble val_loss, val_accuracy;       /* NAN without validation */
  gdouble test_accuracy;        /* NAN without a test set */
  gdouble learning_rate;
  gdouble seconds, images_per_second;
} EpochRecord;

typedef struct
{
  const gchar *name;            /* prefixes progress lines; NULL: none */
  const gchar *checkpoint;      /* NULL: no checkpoints */
  const gchar *log;             /* CSV; NULL: none */
  const gchar *plot;            /* PNG; NULL: none */
  const gchar *command_line;    /* kept in checkpoints */
  gboolean progress_bar;        /* a single updating line (a terminal) */
} TrainerOutputs;

typedef enum
{
  TRAIN_FINISHED,
  TRAIN_INTERRUPTED,            /* Ctrl-C: a checkpoint was written */
  TRAIN_FAILED,
} TrainOutcome;

typedef struct _Trainer Trainer;

/* @net must be built for the settings' architecture and input; @data
 * (labelled, checked) is the training set including the validation
 * part, @test may be NULL.  Parameters are initialised from the seed. */
Trainer *trainer_new (CnnNetwork * net, const TrainSettings * s,
    const CnnDataset * data, const CnnDataset * test,
    const ToolNormalisation * norm, const TrainerOutputs * outputs,
    GError ** error);
void trainer_free (Trainer * t);

/* Continues from @ckpt: parameters, optimizer state, position, best
 * weights and history.  Fails (CNN_ERROR_MODEL) when the checkpoint does
 * not fit this run's network or data. */
gboolean trainer_resume (Trainer * t, const Checkpoint * ckpt,
    GError ** error);
/* The settings a checkpoint was made with. */
gboolean trainer_checkpoint_settings (const Checkpoint * ckpt,
    TrainSettings * s, GError ** error);

TrainOutcome trainer_run (Trainer * t, GError ** error);
/* Puts the weights to keep (best validation, else the last) in the
 * network and returns the epoch they come from. */
guint trainer_use_best (Trainer * t);
/* With --augment webcam: the confidence below which the network's
 * answer is "no digit", calibrated on the held-out blank scenes so that
 * TRAINER_BLANK_RATE of all blank scenes are given a class: those the
 * preprocessing finds no ink in count as rejected already, and the
 * threshold is the confidence that only that many of the ones it took
 * for ink reach.  A share of all blank frames, what a user sees, and
 * not of the inked ones: that share moves whenever the preprocessing
 * rejects more blank paper by itself (nine in ten of the inked ones,
 * the earlier rule, were 2.2 % of all blank scenes and the best trade
 * of digits read against blank frames given a class on the development
 * set, desk-eval.sh --dev).  With the weights as they are now; @n: how
 * many held-out blank scenes were taken for ink.  FALSE when there are
 * too few. */
#define TRAINER_BLANK_RATE 0.02
gboolean trainer_reject_threshold (Trainer * t, gdouble * threshold,
    guint * n);
const EpochRecord *trainer_history (const Trainer * t, guint * n);
guint trainer_n_validation (const Trainer * t);
/* Epochs completed, and batches of the next epoch done out of how many. */
void trainer_position (const Trainer * t, guint * epochs_done,
    guint * batches_done, guint * n_batches);

/* SIGINT/SIGTERM set a flag that trainer_run() checks after each batch;
 * a second signal ends the process as usual. */
void trainer_catch_interrupts (void);

G_END_DECLS

#endif /* TOOL_TRAINER_H */
