// Mappings: the mapping YAML format, its validation with file positions, globs and compiled transforms.
import DynamoCore
import Yams
